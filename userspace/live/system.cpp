// SPDX-License-Identifier: MIT
// Privileges, capabilities (raw capget/capset: no libcap dependency), feature probes,
// interface resolution (/proc/net/route, /proc/net/ipv6_route) and clocks.
#include "system.hpp"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/capability.h>
#include <net/if.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <dirent.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "bpf_util.hpp"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

namespace nfm::live {

const char* ErrnoName(int err) noexcept {
  const char* n = strerrorname_np(err);
  return n ? n : "E?";
}

std::string FormatError(const std::string& action, const std::string& object, int err,
                        const std::string& hint) {
  std::string s = action + " " + object + ": " + std::strerror(err) + " (" + ErrnoName(err) + ")";
  if (!hint.empty()) s += "; " + hint;
  return s;
}

namespace {

bool CapGet(__user_cap_data_struct data[2]) noexcept {
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  return syscall(SYS_capget, &hdr, data) == 0;
}

bool HasCap(const __user_cap_data_struct data[2], int cap) noexcept {
  return (data[cap / 32].effective >> (cap % 32)) & 1u;
}

}  // namespace

std::string MissingCaptureCapabilities() {
  __user_cap_data_struct d[2] = {};
  const bool got = CapGet(d);
  const bool admin = got && HasCap(d, CAP_SYS_ADMIN);  // stands in for CAP_BPF and CAP_PERFMON
  std::string missing;
  for (const auto& [cap, name] : {std::pair{CAP_BPF, "CAP_BPF"}, std::pair{CAP_PERFMON, "CAP_PERFMON"},
                                  std::pair{CAP_NET_ADMIN, "CAP_NET_ADMIN"}}) {
    if (got && (HasCap(d, cap) || (admin && cap != CAP_NET_ADMIN))) continue;
    missing += missing.empty() ? "" : ", ";
    missing += name;
  }
  return missing;
}

namespace {

// Empties the calling thread's bounding, ambient, effective, permitted and inheritable sets.
// Raw syscalls only (also runs inside a signal handler). Returns 0 or an errno value.
int DropSelf() noexcept {
  // Bounding set first: dropping it needs CAP_SETPCAP, which is about to go. Afterwards an
  // execve as uid 0 cannot regain anything. The loop ends at the first unknown capability.
  // Without CAP_SETPCAP (a container granted only BPF, PERFMON and NET_ADMIN, as the
  // DaemonSet asks) the bounding set cannot shrink (EPERM): it stays what the runtime granted,
  // and the sets below are still emptied (lowering them needs no capability).
  for (long cap = 0; cap < 64; ++cap) {
    if (syscall(SYS_prctl, PR_CAPBSET_READ, cap, 0, 0, 0) < 0) break;
    if (syscall(SYS_prctl, PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
      if (errno == EPERM) break;
      if (errno != EINVAL) return errno;
    }
  }
  syscall(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);  // EINVAL if old: fine
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct d[2] = {};
  return syscall(SYS_capset, &hdr, d) == 0 ? 0 : errno;
}

std::atomic<int> g_threads_dropped{0};
std::atomic<int> g_threads_failed{0};

void OnDropSignal(int) {
  const int saved = errno;
  (DropSelf() == 0 ? g_threads_dropped : g_threads_failed).fetch_add(1);
  errno = saved;
}

}  // namespace

int DropAllCapabilities() {
  if (const int err = DropSelf()) throw BpfError("drop", "capabilities", err);
  // Capabilities belong to threads. Threads the caller started earlier (e.g. a metrics
  // server) keep theirs unless they drop them too: signal each one, as glibc does for
  // setuid(). The handler stays installed, so a thread that has the signal blocked drops
  // its capabilities whenever it unblocks it instead of being killed by the default action.
  const int sig = SIGRTMIN + 7;
  struct sigaction sa = {};
  sa.sa_handler = OnDropSignal;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  if (sigaction(sig, &sa, nullptr) != 0) throw BpfError("install", "capability-drop signal handler", errno);
  const pid_t self = static_cast<pid_t>(syscall(SYS_gettid));
  int sent = 0;
  if (DIR* dir = opendir("/proc/self/task")) {
    while (dirent* e = readdir(dir)) {
      const pid_t tid = static_cast<pid_t>(std::atoi(e->d_name));
      if (tid <= 0 || tid == self) continue;
      if (syscall(SYS_tgkill, getpid(), tid, sig) == 0) ++sent;
    }
    closedir(dir);
  }
  for (int i = 0; i < 200 && g_threads_dropped.load() + g_threads_failed.load() < sent; ++i) usleep(1000);
  return sent - g_threads_dropped.load();  // threads that still hold capabilities
}

std::string MissingKernelFeature() {
  struct MapProbe {
    bpf_map_type type;
    const char* what;
  };
  for (const MapProbe& p : {MapProbe{BPF_MAP_TYPE_RINGBUF, "BPF ring buffer maps (Linux 5.8+)"},
                            MapProbe{BPF_MAP_TYPE_ARRAY_OF_MAPS, "BPF array-of-maps (Linux 4.12+)"},
                            MapProbe{BPF_MAP_TYPE_PERCPU_ARRAY, "BPF per-CPU arrays (Linux 4.6+)"}}) {
    if (libbpf_probe_bpf_map_type(p.type, nullptr) != 1) return p.what;
  }
  if (libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_XDP, nullptr) != 1) return "XDP programs (CONFIG_BPF_SYSCALL)";
  if (libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_SCHED_CLS, nullptr) != 1)
    return "TC BPF programs (CONFIG_NET_CLS_BPF/CONFIG_NET_SCH_INGRESS)";
  btf* vmlinux = btf__load_vmlinux_btf();
  if (!vmlinux) return "kernel BTF (/sys/kernel/btf/vmlinux, CONFIG_DEBUG_INFO_BTF=y)";
  btf__free(vmlinux);
  return {};
}

// Interface names carrying a default route (IPv4 and IPv6), in file order, no duplicates.
std::vector<std::string> DefaultRouteInterfaces() {
  std::vector<std::string> out;
  auto add = [&](const std::string& n) {
    if (n != "lo" && std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
  };
  std::ifstream v4("/proc/net/route");
  std::string line;
  std::getline(v4, line);  // header
  while (std::getline(v4, line)) {
    std::istringstream ss(line);
    std::string iface, dest, gw, flags, refcnt, use, metric, mask;
    if (ss >> iface >> dest >> gw >> flags >> refcnt >> use >> metric >> mask &&
        dest == "00000000" && mask == "00000000")
      add(iface);
  }
  std::ifstream v6("/proc/net/ipv6_route");
  while (std::getline(v6, line)) {
    std::istringstream ss(line);
    std::string dst, dlen, src, slen, nh, metric, ref, use, flags, iface;
    if (ss >> dst >> dlen >> src >> slen >> nh >> metric >> ref >> use >> flags >> iface &&
        dst == std::string(32, '0') && dlen == "00")
      add(iface);
  }
  return out;
}

namespace {
int64_t Ns(const timespec& t) { return int64_t{t.tv_sec} * 1000000000 + t.tv_nsec; }
}  // namespace

int64_t MonotonicToWallOffsetNs() noexcept {
  // Bracket the realtime read with two monotonic reads and keep the tightest of 3 tries.
  int64_t best_gap = INT64_MAX, offset = 0;
  for (int i = 0; i < 3; ++i) {
    timespec m1, r, m2;
    clock_gettime(CLOCK_MONOTONIC, &m1);
    clock_gettime(CLOCK_REALTIME, &r);
    clock_gettime(CLOCK_MONOTONIC, &m2);
    const int64_t gap = Ns(m2) - Ns(m1);
    if (gap < best_gap) {
      best_gap = gap;
      offset = Ns(r) - (Ns(m1) + gap / 2);
    }
  }
  return offset;
}

uint64_t WallNowNs() noexcept {
  timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return static_cast<uint64_t>(Ns(t));
}

uint64_t MonoNowNs() noexcept {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<uint64_t>(Ns(t));
}

}  // namespace nfm::live
