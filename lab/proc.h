/* Child processes for the lab: commands run inside a network namespace
 * (setns on /run/netns/NAME, then exec), with bounded waits. The lab blocks
 * SIGINT/SIGTERM/SIGHUP while it works and polls for them between steps, so
 * that an interrupt always ends in the teardown; children get the default
 * signal mask back before exec. */
#ifndef EDGELAB_LAB_PROC_H
#define EDGELAB_LAB_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Blocks the interrupting signals in the calling process. */
void proc_block_signals(void);
/* True once SIGINT, SIGTERM or SIGHUP is pending (and consumes it), while
 * interrupts are honoured; the teardown turns them off so that it always
 * runs to the end. */
bool proc_interrupted(void);
void proc_honour_interrupts(bool on);

/* Starts argv[0] (searched in PATH) in netns (NULL: the current one), with
 * stdout and stderr to log_path when given (appended). 0 or errno. */
int proc_spawn(const char *netns, char *const argv[], const char *log_path, pid_t *pidp);
/* The same, with the directory hide made empty and inaccessible for the
 * child (a private mount namespace; the rest of the filesystem is shared). */
int proc_spawn_hiding(const char *netns, const char *hide, char *const argv[], const char *log_path,
                      pid_t *pidp);
/* Starts argv[0] in netns in a session of its own, stdin from /dev/null,
 * stdout and stderr to log_path: a process that outlives its parent (a
 * standing lab's edge). 0 or errno. */
int proc_spawn_detached(const char *netns, char *const argv[], const char *log_path, pid_t *pidp);
/* Waits for pid up to timeout_ms; 0 and its exit status (128+signal when
 * killed), ETIMEDOUT (the child is killed), or EINTR (interrupted: the child
 * is left to the caller). */
int proc_wait(pid_t pid, unsigned timeout_ms, int *status);
/* True when pid has exited (reaped; its status in *status). */
bool proc_exited(pid_t pid, int *status);
/* SIGTERM, then SIGKILL after grace_ms; reaps it. */
void proc_stop(pid_t pid, unsigned grace_ms);
/* The kernel's start time of pid (clock ticks since boot, /proc/PID/stat):
 * with the PID, what tells a process from a later one that reused its PID.
 * 0 when there is no such process, or it has exited (a zombie: in a
 * container, PID 1 may never reap the orphaned edge). */
unsigned long long proc_start_time(long pid);
/* Spawns and waits (10 s at most); 0 when it exited 0, else err says which
 * command failed and how. */
int proc_run(const char *netns, char *const argv[], const char *log_path, char *err,
             size_t err_len);
/* The same, with the command's stdout and stderr in out (NUL-terminated,
 * cut at out_len - 1 bytes), for a tool whose own words the caller quotes. */
int proc_run_capture(const char *netns, char *const argv[], char *out, size_t out_len, char *err,
                     size_t err_len);

#endif
