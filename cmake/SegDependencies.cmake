# Every external package seg builds against, found in one place.
# Versions are those of Debian bookworm (see setup.sh and docs/building.md).

find_package(antlr4-runtime CONFIG REQUIRED)   # runtime 4.9
find_program(ANTLR4_TOOL antlr4 REQUIRED)      # Debian's /usr/bin/antlr4 (tool 4.7.2)
find_package(fmt CONFIG REQUIRED)
find_package(GTest CONFIG REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
find_package(nlohmann_json CONFIG REQUIRED)
find_package(SQLite3 REQUIRED)                 # the differential oracle and a benchmark peer
find_package(yaml-cpp CONFIG REQUIRED)         # tests read LINE's OpenAPI files

# The ANTLR runtime's imported target carries no include directory.
add_library(seg_antlr4 INTERFACE)
target_link_libraries(seg_antlr4 INTERFACE antlr4_shared)
target_include_directories(seg_antlr4 SYSTEM INTERFACE ${ANTLR4_INCLUDE_DIR})

# Libraries without CMake packages in Debian, through pkg-config; GLOBAL so
# every directory can link them.
find_package(PkgConfig REQUIRED)
pkg_check_modules(RE2 REQUIRED IMPORTED_TARGET GLOBAL re2)
pkg_check_modules(XXHASH REQUIRED IMPORTED_TARGET GLOBAL libxxhash)
