/* The service manager's view of serve (systemd's Type=notify, sd_notify(3)):
 * ready once every listener is bound, reloading while a SIGHUP is applied,
 * stopping after SIGTERM, and a one-line status. The one file that includes
 * systemd's header is notify.c. Without NOTIFY_SOCKET in the environment
 * (serve not started by systemd) every call does nothing and returns 0. */
#ifndef EDGELAB_CORE_NOTIFY_H
#define EDGELAB_CORE_NOTIFY_H

enum notify_state {
	NOTIFY_READY,     /* READY=1: every listener answers */
	NOTIFY_RELOADING, /* RELOADING=1: until the next NOTIFY_READY */
	NOTIFY_STOPPING,  /* STOPPING=1: nothing follows */
	NOTIFY_STATUS,    /* the status line alone */
};

/* Sends the state with STATUS=status (NULL: none; a newline in it becomes a
 * blank, as it would start another assignment). 0, or the errno sending
 * failed with. */
int notify_send(enum notify_state state, const char *status);

#endif
