"""Run a command under the seccomp rules that deploy/monitor.service asks systemd for, to check that
mention-monitor works inside its sandbox on machines (or containers) where the unit itself cannot run.

    sudo apt-get install python3-seccomp        # and systemd-analyze, for the system call groups
    python3 deploy/sandbox_check.py .venv/bin/monitor run --once
    python3 deploy/sandbox_check.py .venv/bin/python -m pytest -q

Two filters, inherited by the exec'd command and its children:
- MemoryDenyWriteExecute=yes, as systemd's seccomp_memory_deny_write_execute(): mmap with
  PROT_WRITE|PROT_EXEC, mprotect/pkey_mprotect adding PROT_EXEC and shmat with SHM_EXEC fail with EPERM;
- SystemCallFilter=@system-service ~@privileged ~@resources with SystemCallErrorNumber=EPERM: every
  other system call fails with EPERM (the groups are expanded by `systemd-analyze syscall-filter`).
Exit status is the command's. Both filters are self-tested first, so a pass cannot be vacuous.
"""

from __future__ import annotations

import errno
import mmap
import os
import subprocess
import sys

sys.path.append("/usr/lib/python3/dist-packages")     # Debian's python3-seccomp, outside any venv
import seccomp  # type: ignore[import-not-found]  # noqa: E402

SHM_EXEC = 0o100000
WX = mmap.PROT_WRITE | mmap.PROT_EXEC
ALLOW = ["@system-service"]
DENY = ["@privileged", "@resources"]


def expand(group: str, seen: set[str] | None = None) -> set[str]:
    seen = seen if seen is not None else set()
    out = subprocess.run(["systemd-analyze", "syscall-filter", group], capture_output=True, text=True,
                         check=True).stdout
    calls: set[str] = set()
    for line in out.splitlines()[1:]:
        name = line.strip()
        if not name or name.startswith("#"):
            continue
        if name.startswith("@"):
            if name not in seen:
                seen.add(name)
                calls |= expand(name, seen)
        else:
            calls.add(name)
    return calls


def install_syscall_filter() -> int:
    allowed: set[str] = set().union(*(expand(g) for g in ALLOW)) - set().union(*(expand(g) for g in DENY))
    f = seccomp.SyscallFilter(defaction=seccomp.ERRNO(errno.EPERM))
    n = 0
    for name in sorted(allowed):
        try:
            f.add_rule(seccomp.ALLOW, name)
            n += 1
        except (RuntimeError, ValueError, OSError):
            pass            # not a system call on this architecture
    f.load()
    return n


def install_mdwe() -> None:
    f = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    eperm = seccomp.ERRNO(errno.EPERM)
    f.add_rule(eperm, "mmap", seccomp.Arg(2, seccomp.MASKED_EQ, WX, WX))
    f.add_rule(eperm, "mprotect", seccomp.Arg(2, seccomp.MASKED_EQ, mmap.PROT_EXEC, mmap.PROT_EXEC))
    f.add_rule(eperm, "pkey_mprotect", seccomp.Arg(2, seccomp.MASKED_EQ, mmap.PROT_EXEC, mmap.PROT_EXEC))
    f.add_rule(eperm, "shmat", seccomp.Arg(2, seccomp.MASKED_EQ, SHM_EXEC, SHM_EXEC))
    f.load()


def selftest() -> None:
    try:
        mmap.mmap(-1, 4096, prot=WX)
        sys.exit("sandbox_check: the MDWE filter did not refuse a W+X mapping")
    except PermissionError:
        pass
    try:
        os.sched_setaffinity(0, os.sched_getaffinity(0))        # in @resources: must be refused
        sys.exit("sandbox_check: the system call filter did not refuse sched_setaffinity")
    except PermissionError:
        pass


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    install_mdwe()
    n = install_syscall_filter()
    selftest()
    print(f"sandbox_check: MemoryDenyWriteExecute and {n} allowed system calls in force", file=sys.stderr)
    os.execvp(sys.argv[1], sys.argv[1:])
