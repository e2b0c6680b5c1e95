#include "tests/tools/crash_fs.h"

#include <filesystem>

namespace seg::test {
namespace {

std::string parentOf(const std::string& path) { return std::filesystem::path(path).parent_path().string(); }
std::string nameOf(const std::string& path) { return std::filesystem::path(path).filename().string(); }

class NoLock : public FileLock {};

}  // namespace

class CrashFs::Writable : public WritableFile {
 public:
  Writable(CrashFs& fs, std::shared_ptr<Inode> inode, std::string path)
      : fs_(fs), inode_(std::move(inode)), path_(std::move(path)) {}

  void append(std::string_view data) override {
    std::size_t landed = data.size();
    fs_.step("append " + nameOf(path_), data.size(), &landed);
    inode_->data.append(data.substr(0, landed));
  }
  void sync() override {
    fs_.step("sync " + nameOf(path_));
    inode_->durable = inode_->data;
  }
  void truncate(std::uint64_t size) override {
    fs_.step("truncate " + nameOf(path_));
    inode_->data.resize(size);
  }

 private:
  CrashFs& fs_;
  std::shared_ptr<Inode> inode_;
  std::string path_;
};

void CrashFs::cutPowerAt(std::uint64_t op, bool tear, std::uint64_t seed) {
  cutAt_ = op;
  tear_ = tear;
  random_.seed(seed);
}

void CrashFs::step(const std::string& what, std::size_t appendBytes, std::size_t* landed) {
  if (dead_) throw PowerCut();
  ++operations_;
  journal_.push_back(what);
  if (operations_ == failAt_ && appendBytes > 0) {
    failAt_ = 0;
    throw IoError("cannot write `" + what.substr(what.find(' ') + 1) + "`: No space left on device");
  }
  if (operations_ != cutAt_) return;
  dead_ = true;
  if (landed != nullptr && tear_ && appendBytes > 0) {
    *landed = static_cast<std::size_t>(random_() % appendBytes);  // part of the write got in
    return;  // the caller appends it; the next operation finds the power gone
  }
  throw PowerCut();
}

void CrashFs::powerLoss() {
  names_ = durableNames_;
  std::set<Inode*> done;
  for (auto& [path, inode] : names_) {
    if (!done.insert(inode.get()).second) continue;
    // Pages of unsynced appends may have been written back before the cut:
    // keep a random part of them (a torn write at the end).
    const bool appendedOnly = inode->data.size() >= inode->durable.size() &&
                              inode->data.compare(0, inode->durable.size(), inode->durable) == 0;
    std::string kept = inode->durable;
    if (appendedOnly && tear_ && inode->data.size() > inode->durable.size()) {
      const std::size_t extra = inode->data.size() - inode->durable.size();
      kept += inode->data.substr(inode->durable.size(), static_cast<std::size_t>(random_() % (extra + 1)));
    }
    inode->data = kept;
    inode->durable = kept;
  }
  dead_ = false;
  cutAt_ = 0;
}

bool CrashFs::exists(const std::string& path) { return names_.contains(path) || directories_.contains(path); }
bool CrashFs::isDirectory(const std::string& path) { return directories_.contains(path); }

void CrashFs::createDirectories(const std::string& path) {
  // Directories themselves are taken to be durable at once: the store's
  // own directory is created before any of its files.
  for (std::filesystem::path p = path; !p.empty() && p != p.parent_path(); p = p.parent_path()) directories_.insert(p.string());
}

std::optional<std::string> CrashFs::read(const std::string& path) {
  if (dead_) throw PowerCut();
  const auto it = names_.find(path);
  if (it == names_.end()) return std::nullopt;
  return it->second->data;
}

std::shared_ptr<CrashFs::Inode> CrashFs::open(const std::string& path, bool truncate) {
  auto& inode = names_[path];
  if (!inode) inode = std::make_shared<Inode>();
  if (truncate) inode->data.clear();
  return inode;
}

std::unique_ptr<WritableFile> CrashFs::openForAppend(const std::string& path) {
  step("open " + nameOf(path));
  return std::make_unique<Writable>(*this, open(path, false), path);
}

std::unique_ptr<WritableFile> CrashFs::create(const std::string& path) {
  step("create " + nameOf(path));
  // A new file (a fresh inode), as creat() over a name gives when the old
  // file was renamed away; truncating in place would be the same here.
  names_[path] = std::make_shared<Inode>();
  return std::make_unique<Writable>(*this, names_[path], path);
}

void CrashFs::rename(const std::string& from, const std::string& to) {
  step("rename " + nameOf(from));
  const auto it = names_.find(from);
  if (it == names_.end()) throw IoError("cannot rename `" + from + "`: no such file");
  names_[to] = it->second;
  names_.erase(it);
}

void CrashFs::syncDirectory(const std::string& dir) {
  step("syncdir " + nameOf(dir));
  std::erase_if(durableNames_, [&](const auto& entry) { return parentOf(entry.first) == dir; });
  for (const auto& [path, inode] : names_) {
    if (parentOf(path) == dir) durableNames_[path] = inode;
  }
}

std::unique_ptr<FileLock> CrashFs::lock(const std::string&, const std::string&) { return std::make_unique<NoLock>(); }

}  // namespace seg::test
