#include "runtime/store/file_system.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace seg {
namespace {

namespace fs = std::filesystem;

class PosixWritable : public WritableFile {
 public:
  explicit PosixWritable(File file) : file_(std::move(file)) {}
  void append(std::string_view data) override { file_.writeAll(data); }
  void sync() override { file_.sync(); }
  void truncate(std::uint64_t size) override { file_.truncate(size); }

 private:
  File file_;
};

class PosixLock : public FileLock {
 public:
  explicit PosixLock(File file) : file_(std::move(file)) {}

 private:
  File file_;  // the lock goes with the descriptor
};

class PosixFileSystem : public FileSystem {
 public:
  bool exists(const std::string& path) override {
    std::error_code ec;
    return fs::exists(path, ec);
  }
  bool isDirectory(const std::string& path) override {
    std::error_code ec;
    return fs::is_directory(path, ec);
  }
  void createDirectories(const std::string& path) override {
    std::error_code ec;
    fs::create_directories(path, ec);
    if (ec) throw IoError("cannot create `" + path + "`: " + ec.message());
  }
  std::optional<std::string> read(const std::string& path) override { return readWholeFile(path); }
  std::unique_ptr<WritableFile> openForAppend(const std::string& path) override {
    return std::make_unique<PosixWritable>(File::openForAppend(path));
  }
  std::unique_ptr<WritableFile> create(const std::string& path) override {
    return std::make_unique<PosixWritable>(File::create(path));
  }
  void rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) throw IoError("cannot rename `" + from + "`: " + std::strerror(errno));
  }
  void syncDirectory(const std::string& dir) override { seg::syncDirectory(dir); }
  std::optional<std::string> readPrefix(const std::string& path, std::size_t bytes) override {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      if (!exists(path)) return std::nullopt;
      throw IoError("cannot open `" + path + "`: " + std::strerror(errno));
    }
    std::string out(bytes, '\0');
    in.read(out.data(), static_cast<std::streamsize>(bytes));
    out.resize(static_cast<std::size_t>(in.gcount()));
    return out;
  }
  std::unique_ptr<FileLock> lock(const std::string& path, const std::string& holder) override {
    File file = File::openLock(path);
    if (!file.tryLock(true)) return nullptr;
    file.truncate(0);
    file.writeAll(holder + "\n");  // not synced: only a hint for a refused writer
    return std::make_unique<PosixLock>(std::move(file));
  }
};

}  // namespace

FileSystem& FileSystem::posix() {
  static PosixFileSystem instance;  // stateless: one serves every store
  return instance;
}

std::optional<std::string> FileSystem::readPrefix(const std::string& path, std::size_t bytes) {
  std::optional<std::string> whole = read(path);
  if (whole && whole->size() > bytes) whole->resize(bytes);
  return whole;
}

void writeFileAtomically(FileSystem& fs, const std::string& path, std::string_view data) {
  const std::string temporary = path + ".tmp";
  {
    auto file = fs.create(temporary);
    file->append(data);
    file->sync();
  }
  fs.rename(temporary, path);
  fs.syncDirectory(fs::path(path).parent_path().string());
}

}  // namespace seg
