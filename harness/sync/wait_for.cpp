// The wait-for graph's pure parts: cycle, explanation, /proc/PID/maps lines.
#include "harness/sync/wait_for.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <functional>
#include <map>
#include <set>
#include <sstream>

namespace ipcg {
namespace {

std::vector<pid_t> successors(const WaitNode& n) {
  std::vector<pid_t> out = n.waits_for;
  if (n.waits_on) {
    // Nobody holds it: it waits for those that post it.
    const auto& next = n.waits_on->holders.empty() ? n.waits_on->posters : n.waits_on->holders;
    out.insert(out.end(), next.begin(), next.end());
  }
  out.erase(std::remove(out.begin(), out.end(), n.pid), out.end());  // holding what it waits on: said apart
  return out;
}

std::string who(pid_t pid, const std::map<pid_t, const WaitNode*>& by_pid) {
  const auto it = by_pid.find(pid);
  if (it == by_pid.end() || it->second->label.empty()) return fmt::format("pid {}", pid);
  return fmt::format("pid {} ({})", pid, it->second->label);
}

// A holder that is no node of the graph has ended (killed while holding, or exited without
// releasing): the others wait for a post that cannot come.
// `if_alive` follows each pid that is still a node.
std::string pid_list(const std::vector<pid_t>& pids, const std::map<pid_t, const WaitNode*>& by_pid,
                     std::string_view if_alive = "", std::string_view if_ended = ", which has ended without releasing it") {
  std::string out;
  for (std::size_t i = 0; i < pids.size(); ++i) {
    out += (i ? ", pid " : "pid ") + std::to_string(pids[i]);
    if (!by_pid.empty() && !by_pid.count(pids[i])) out += if_ended;
    else out += if_alive;
  }
  return out;
}

bool hex_field(std::string_view text, std::uint64_t& out) {
  return std::from_chars(text.data(), text.data() + text.size(), out, 16).ec == std::errc{};
}

}  // namespace

std::vector<pid_t> find_cycle(const std::vector<WaitNode>& nodes) {
  std::map<pid_t, const WaitNode*> by_pid;
  for (const auto& n : nodes) by_pid[n.pid] = &n;
  // Depth-first from each pid in order; the first back edge closes the cycle.
  std::map<pid_t, int> color;  // 0 new, 1 on the path, 2 done
  std::vector<pid_t> path;
  std::vector<pid_t> cycle;
  std::function<bool(pid_t)> visit = [&](pid_t p) {
    color[p] = 1;
    path.push_back(p);
    const auto it = by_pid.find(p);
    if (it != by_pid.end()) {
      for (pid_t next : successors(*it->second)) {
        if (color[next] == 1) {
          cycle.assign(std::find(path.begin(), path.end(), next), path.end());
          return true;
        }
        if (color[next] == 0 && visit(next)) return true;
      }
    }
    color[p] = 2;
    path.pop_back();
    return false;
  };
  for (const auto& [pid, node] : by_pid)
    if (color[pid] == 0 && visit(pid)) break;
  if (cycle.empty()) return cycle;
  std::rotate(cycle.begin(), std::min_element(cycle.begin(), cycle.end()), cycle.end());
  return cycle;
}

std::vector<std::string> explain_wait_for(const std::vector<WaitNode>& nodes) {
  std::map<pid_t, const WaitNode*> by_pid;
  for (const auto& n : nodes) by_pid[n.pid] = &n;
  std::vector<std::string> lines;
  for (const auto& n : nodes) {
    std::string line = who(n.pid, by_pid) + " waits";
    if (!n.blocked_in.empty()) line += " in " + n.blocked_in;
    if (n.waits_on) {
      const WaitedObject& o = *n.waits_on;
      line += " on " + o.what;
      if (!o.state.empty()) line += " (" + o.state + ")";
      std::vector<pid_t> others, takers, posters;
      for (pid_t h : o.holders)
        if (h != n.pid) others.push_back(h);
      for (pid_t t : o.takers)
        if (t != n.pid) takers.push_back(t);
      for (pid_t p : o.posters)
        if (p != n.pid) posters.push_back(p);
      if (!others.empty()) line += ", held by " + pid_list(others, by_pid);
      const bool took_too = std::find(o.takers.begin(), o.takers.end(), n.pid) != o.takers.end();
      if (!takers.empty()) line += ", decremented by " + pid_list(takers, by_pid, "", ", which has ended");
      if (took_too) line += takers.empty() ? ", decremented by itself" : " and by itself";
      if (!o.takers.empty()) line += o.takers.size() > 1 ? " (they never posted it)" : " (never posted it)";
      if (std::find(o.holders.begin(), o.holders.end(), n.pid) != o.holders.end())
        line += others.empty() ? ", which it holds itself" : "; it holds it too";
      if (o.holders.empty() && !posters.empty())
        line += "; nobody holds it, posted only by " + pid_list(posters, by_pid, "", ", which has ended");
      else if (o.holders.empty() && !o.takers.empty())
        line += "; nobody has posted it yet";
      else if (o.holders.empty())
        line += "; no process holds it: nobody will post it";
    }
    if (!n.waits_for.empty()) line += ", for " + pid_list(n.waits_for, {});
    lines.push_back(std::move(line));
  }
  const auto cycle = find_cycle(nodes);
  if (!cycle.empty()) {
    std::string line = "circular wait: ";
    for (pid_t p : cycle) line += fmt::format("pid {} -> ", p);
    line += fmt::format("pid {}", cycle.front());
    lines.push_back(std::move(line));
  }
  return lines;
}

std::optional<MapsEntry> parse_maps_line(std::string_view line) {
  // "7f2a1c000000-7f2a1c001000 rw-s 00000000 00:1a 1234    /dev/shm/sem.x"
  std::istringstream in{std::string(line)};
  std::string range, perms, offset, device, inode;
  if (!(in >> range >> perms >> offset >> device >> inode)) return std::nullopt;
  MapsEntry m;
  const auto dash = range.find('-');
  const auto colon = device.find(':');
  if (dash == std::string::npos || colon == std::string::npos || perms.size() < 4) return std::nullopt;
  if (!hex_field(std::string_view(range).substr(0, dash), m.start) ||
      !hex_field(std::string_view(range).substr(dash + 1), m.end) || !hex_field(offset, m.offset) ||
      !hex_field(std::string_view(device).substr(0, colon), m.device_major) ||
      !hex_field(std::string_view(device).substr(colon + 1), m.device_minor))
    return std::nullopt;
  if (std::from_chars(inode.data(), inode.data() + inode.size(), m.inode).ec != std::errc{}) return std::nullopt;
  m.shared = perms[3] == 's';
  std::string rest;
  std::getline(in, rest);
  const auto first = rest.find_first_not_of(' ');
  m.path = first == std::string::npos ? "" : rest.substr(first);
  return m;
}

std::optional<MapsEntry> mapping_of(std::string_view maps, std::uint64_t addr) {
  std::size_t at = 0;
  while (at < maps.size()) {
    auto end = maps.find('\n', at);
    if (end == std::string_view::npos) end = maps.size();
    if (auto m = parse_maps_line(maps.substr(at, end - at)); m && m->start <= addr && addr < m->end) return m;
    at = end + 1;
  }
  return std::nullopt;
}

std::uint64_t dirty_mapped_bytes(std::string_view smaps, std::uint64_t inode) {
  std::uint64_t kb = 0;
  bool in_file = false;
  std::size_t at = 0;
  while (at < smaps.size()) {
    auto end = smaps.find('\n', at);
    if (end == std::string_view::npos) end = smaps.size();
    const std::string_view line = smaps.substr(at, end - at);
    at = end + 1;
    if (auto m = parse_maps_line(line)) {  // a block's first line; "Key:   value kB" lines follow
      in_file = m->inode == inode && inode != 0;
      continue;
    }
    if (!in_file) continue;
    for (std::string_view key : {"Shared_Dirty:", "Private_Dirty:"}) {
      if (line.substr(0, key.size()) != key) continue;
      std::string_view value = line.substr(key.size());
      value.remove_prefix(std::min(value.find_first_not_of(' '), value.size()));
      std::uint64_t n = 0;
      if (std::from_chars(value.data(), value.data() + value.size(), n).ec == std::errc{}) kb += n;
    }
  }
  return kb * 1024;
}

std::string describe_mapping(const MapsEntry& m, std::uint64_t offset) {
  static constexpr std::string_view kShm = "/dev/shm/";
  std::string_view path = m.path;
  if (path.size() > 10 && path.substr(path.size() - 10) == " (deleted)") path.remove_suffix(10);
  if (path.substr(0, kShm.size()) == kShm) {
    std::string_view name = path.substr(kShm.size());
    if (name.substr(0, 4) == "sem.") return fmt::format("semaphore /{}", name.substr(4));
    return fmt::format("shared memory /{} at offset {}", name, offset);
  }
  if (path.empty() || path.substr(0, 7) == "/memfd:" || path == "/dev/zero")
    return fmt::format("{} memory at offset {}", m.shared ? "anonymous shared" : "private", offset);
  return fmt::format("{} at offset {}", path, offset);
}

}  // namespace ipcg
