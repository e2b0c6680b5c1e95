# Helpers that give every seg target the same include root and warnings.

function(seg_target_defaults target)
  target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR})
  target_compile_options(${target} PRIVATE -Wall -Wextra)
  # GCC 12 reports std::string concatenation in libstdc++'s own headers as
  # overlapping memcpy (GCC bug 105329, a false positive).
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    target_compile_options(${target} PRIVATE -Wno-restrict)
  endif()
  if(SEG_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# seg_library(name SOURCES ... DEPS ...)
function(seg_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  seg_target_defaults(${name})
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
endfunction()
