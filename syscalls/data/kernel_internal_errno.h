/* Kernel-internal error codes (the kernel's include/linux/errno.h, which is
 * not exported to user space). Syscalls interrupted by a signal report them
 * at sys_exit before the kernel restarts the call or turns them into EINTR,
 * so a tracer sees them and strace names them. This file is data for
 * tools/gen/gen_syscall_tables.py and is read only when the system headers do
 * not define a code. Messages of the four restart codes are the ones strace
 * prints; the others are the kernel's comments. */
#define ERESTARTSYS 512           /* To be restarted if SA_RESTART is set */
#define ERESTARTNOINTR 513        /* To be restarted */
#define ERESTARTNOHAND 514        /* To be restarted if no handler */
#define ENOIOCTLCMD 515           /* No ioctl command */
#define ERESTART_RESTARTBLOCK 516 /* Interrupted by signal */
#define EPROBE_DEFER 517          /* Driver requests probe retry */
#define EOPENSTALE 518            /* open found a stale dentry */
#define ENOPARAM 519              /* Parameter not supported */
#define EBADHANDLE 521            /* Illegal NFS file handle */
#define ENOTSYNC 522              /* Update synchronization mismatch */
#define EBADCOOKIE 523            /* Cookie is stale */
#define ENOTSUPP 524              /* Operation is not supported */
#define ETOOSMALL 525             /* Buffer or request is too small */
#define ESERVERFAULT 526          /* An untranslatable error occurred */
#define EBADTYPE 527              /* Type not supported by server */
#define EJUKEBOX 528              /* Request initiated, but will not complete before timeout */
#define EIOCBQUEUED 529           /* iocb queued, will get completion event */
#define ERECALLCONFLICT 530       /* conflict with recalled state */
#define ENOGRACE 531              /* NFS file lock reclaim refused */
