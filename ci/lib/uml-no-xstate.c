/* Runs a command (the UML kernel) with ptrace(PTRACE_GETREGSET, ...,
 * NT_X86_XSTATE) failing with EIO, so that Debian's UML kernel (6.1) saves
 * and restores guest FPU state with PTRACE_GETFPREGS/SETFPREGS instead.
 *
 * Why: on hosts whose CPUs have AMX, the host kernel accepts
 * PTRACE_SETREGSET of the XSTATE only at its full size (with the 8 KB of
 * tile data), which this UML kernel does not know about: every switch to a
 * guest process fails with "ptrace set fp regs failed, errno = 14" and init
 * dies. Without XSTATE only the x87/SSE state is switched, so ci/vm also
 * keeps guest programs off AVX (GLIBC_TUNABLES).
 *
 *   uml-no-xstate COMMAND [ARG...]
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef NT_X86_XSTATE
#define NT_X86_XSTATE 0x202
#endif

int main(int argc, char **argv)
{
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_ptrace, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PTRACE_GETREGSET, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[2])),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NT_X86_XSTATE, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EIO),
    };
    struct sock_fprog prog = { .len = sizeof f / sizeof f[0], .filter = f };

    if (argc < 2) {
        fprintf(stderr, "usage: uml-no-xstate COMMAND [ARG...]\n");
        return 2;
    }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
        perror("uml-no-xstate: seccomp");
        return 1;
    }
    execvp(argv[1], argv + 1);
    perror("uml-no-xstate: exec");
    return 127;
}
