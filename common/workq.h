/*
 * workq.h - a thread pool for blocking work (disk I/O, fsync, RocksDB)
 * whose completions come back to the event loop that asked for the work
 * (STYLE R8: no blocking syscalls in event callbacks).
 *
 * Shape:
 *   struct workq       N worker threads and one bounded FIFO of jobs.
 *   struct workq_port  one per event_base that submits work: an eventfd
 *                      registered on that base and a list of finished jobs.
 * A job's work() runs on some worker thread; its done() then runs on the
 * loop thread of the port it was submitted through, from that base's event
 * callback, so done() may touch that thread's connections freely.
 *
 * Back-pressure: at most `max_queued` jobs wait (running ones not counted);
 * beyond that workq_submit() answers -EAGAIN at once and the caller decides
 * (stop reading the client, answer 503, retry from a timer).
 *
 * Every submitted job gets exactly one done() call: with work()'s return
 * value, or -ECANCELED if the pool was shut down in WORKQ_CANCEL mode before
 * the job started (then work() never runs).
 *
 * Teardown order: workq_shutdown() (drain or cancel), then each
 * workq_port_free() on its loop thread (it delivers any completions its
 * loop has not yet run), then workq_free().
 *
 * Threading: workq_submit() may be called from any thread; workq_port_new()
 * and workq_port_free() on the base's thread (or before its loop runs);
 * workq_shutdown()/workq_free() once, from one thread. The pool never
 * touches an event_base from a worker thread (only the eventfd), so
 * libevent need not be built with thread support.
 */
#ifndef CAIRN_WORKQ_H
#define CAIRN_WORKQ_H

#include <stddef.h>

struct event_base;
struct workq;
struct workq_port;

/* Runs on a worker thread; returns 0 or a negative errno, given to done. */
typedef int workq_work_fn(void *arg);
/* Runs on the submitting port's loop thread with work's result or
 * -ECANCELED. */
typedef void workq_done_fn(void *arg, int status);

enum workq_mode {
    WORKQ_DRAIN,  /* run every queued job before the workers exit */
    WORKQ_CANCEL, /* queued jobs are not run; their done gets -ECANCELED */
};

/*
 * Starts nthreads workers (>= 1) with room for max_queued waiting jobs
 * (>= 1). Returns the pool, or NULL with errno set if a thread could not be
 * started (then nothing is left running).
 */
struct workq *workq_new(unsigned nthreads, size_t max_queued);

/*
 * Creates the completion channel of `base` for pool q. Returns NULL with
 * errno set when the eventfd or event cannot be created.
 */
struct workq_port *workq_port_new(struct workq *q, struct event_base *base);

/*
 * Queues work(arg) to run on a worker; done(arg, status) follows on p's
 * loop thread. done may be NULL. Returns 0, -EAGAIN (queue full: nothing
 * queued, done will not be called) or -ESHUTDOWN (pool shutting down).
 */
int workq_submit(struct workq_port *p, workq_work_fn *work,
                 workq_done_fn *done, void *arg);

/*
 * Stops the pool: new submissions get -ESHUTDOWN; queued jobs run (DRAIN)
 * or are cancelled (CANCEL); returns when every worker has exited. A job
 * already running always finishes. Idempotent.
 */
void workq_shutdown(struct workq *q, enum workq_mode mode);

/*
 * Waits until every job submitted through p has finished its work, runs
 * the done callbacks not yet delivered (on the calling thread, which must
 * be p's loop thread), unregisters the event and frees p. NULL is a no-op.
 */
void workq_port_free(struct workq_port *p);

/* Shuts down (DRAIN) if not done yet and frees q. Every port must have been
 * freed before. NULL is a no-op. */
void workq_free(struct workq *q);

/* Jobs waiting (not yet started), for metrics. */
size_t workq_queued(struct workq *q);

#endif
