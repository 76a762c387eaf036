/*
 * workq.c - worker threads plus per-event_base completion ports; see
 * workq.h.
 *
 * Locks: q->mu guards the job FIFO, the stopping flag and the port count;
 * p->mu guards a port's finished list and its count of jobs not yet
 * finished. They are never held together. A worker posts a finished job to
 * its port and writes the port's eventfd only when the finished list was
 * empty: the loop reads the eventfd before it takes the list, so a job
 * appended to a non-empty list is still picked up by that same pass. The
 * write happens under p->mu, before the job stops counting as unfinished,
 * so a port is never freed under a worker's feet.
 */
#include "common/workq.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/bug.h"
#include "common/xalloc.h"

struct job {
    struct job *next;
    struct workq_port *port;
    workq_work_fn *work;
    workq_done_fn *done;
    void *arg;
    int status;
};

struct workq {
    pthread_mutex_t mu;
    pthread_cond_t cond;   /* jobs arrived or stopping */
    struct job *head, *tail;
    size_t queued, max_queued;
    bool stopping, joined;
    size_t nports;
    unsigned nthreads;
    pthread_t *threads;
};

struct workq_port {
    struct workq *q;
    struct event *ev;
    int efd;
    pthread_mutex_t mu;
    pthread_cond_t idle;   /* unfinished dropped to 0 */
    struct job *done_head, *done_tail;
    size_t unfinished;     /* submitted, not yet on the finished list */
};

static void post(struct job *j, int status)
{
    struct workq_port *p = j->port;
    j->status = status;
    j->next = NULL;
    pthread_mutex_lock(&p->mu);
    bool was_empty = p->done_head == NULL;
    if (p->done_tail)
        p->done_tail->next = j;
    else
        p->done_head = j;
    p->done_tail = j;
    if (was_empty) {
        uint64_t one = 1;
        /* Written under the lock so that workq_port_free(), which waits for
         * unfinished == 0 under this lock, cannot close the eventfd first.
         * Only EAGAIN (counter saturated) can fail, and then the loop is
         * awake already. */
        ssize_t n = write(p->efd, &one, sizeof(one));
        (void)n;
    }
    BUG_ON(p->unfinished == 0);
    if (--p->unfinished == 0)
        pthread_cond_broadcast(&p->idle);
    pthread_mutex_unlock(&p->mu);
}

static void *worker(void *arg)
{
    struct workq *q = arg;
    for (;;) {
        pthread_mutex_lock(&q->mu);
        while (!q->head && !q->stopping)
            pthread_cond_wait(&q->cond, &q->mu);
        struct job *j = q->head;
        if (!j) {
            pthread_mutex_unlock(&q->mu);
            return NULL;
        }
        q->head = j->next;
        if (!q->head)
            q->tail = NULL;
        q->queued--;
        pthread_mutex_unlock(&q->mu);
        post(j, j->work(j->arg));
    }
}

struct workq *workq_new(unsigned nthreads, size_t max_queued)
{
    if (nthreads == 0 || max_queued == 0) {
        errno = EINVAL;
        return NULL;
    }
    struct workq *q = xcalloc(1, sizeof(*q));
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->cond, NULL);
    q->max_queued = max_queued;
    q->threads = xcalloc(nthreads, sizeof(*q->threads));
    for (unsigned i = 0; i < nthreads; i++) {
        int rc = pthread_create(&q->threads[i], NULL, worker, q);
        if (rc != 0) {
            q->nthreads = i;
            workq_free(q);
            errno = rc;
            return NULL;
        }
    }
    q->nthreads = nthreads;
    return q;
}

/* Runs the done callbacks of a detached finished list. */
static void deliver(struct job *j)
{
    while (j) {
        struct job *next = j->next;
        if (j->done)
            j->done(j->arg, j->status);
        free(j);
        j = next;
    }
}

static struct job *take_finished(struct workq_port *p)
{
    pthread_mutex_lock(&p->mu);
    struct job *j = p->done_head;
    p->done_head = p->done_tail = NULL;
    pthread_mutex_unlock(&p->mu);
    return j;
}

static void on_eventfd(evutil_socket_t fd, short what, void *arg)
{
    struct workq_port *p = arg;
    uint64_t n;
    ssize_t r = read(fd, &n, sizeof(n)); /* resets the counter */
    (void)r;
    deliver(take_finished(p));
}

struct workq_port *workq_port_new(struct workq *q, struct event_base *base)
{
    int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (efd == -1)
        return NULL;
    struct workq_port *p = xcalloc(1, sizeof(*p));
    p->q = q;
    p->efd = efd;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->idle, NULL);
    p->ev = event_new(base, efd, EV_READ | EV_PERSIST, on_eventfd, p);
    if (!p->ev || event_add(p->ev, NULL) != 0) {
        if (p->ev)
            event_free(p->ev);
        close(efd);
        pthread_mutex_destroy(&p->mu);
        pthread_cond_destroy(&p->idle);
        free(p);
        errno = ENOMEM;
        return NULL;
    }
    pthread_mutex_lock(&q->mu);
    q->nports++;
    pthread_mutex_unlock(&q->mu);
    return p;
}

int workq_submit(struct workq_port *p, workq_work_fn *work,
                 workq_done_fn *done, void *arg)
{
    struct workq *q = p->q;
    struct job *j = xmalloc(sizeof(*j));
    j->next = NULL;
    j->port = p;
    j->work = work;
    j->done = done;
    j->arg = arg;
    j->status = 0;
    /* Count the job as unfinished before a worker can post it. */
    pthread_mutex_lock(&p->mu);
    p->unfinished++;
    pthread_mutex_unlock(&p->mu);
    pthread_mutex_lock(&q->mu);
    int rc = 0;
    if (q->stopping)
        rc = -ESHUTDOWN;
    else if (q->queued >= q->max_queued)
        rc = -EAGAIN;
    if (rc == 0) {
        if (q->tail)
            q->tail->next = j;
        else
            q->head = j;
        q->tail = j;
        q->queued++;
        pthread_cond_signal(&q->cond);
    }
    pthread_mutex_unlock(&q->mu);
    if (rc != 0) {
        pthread_mutex_lock(&p->mu);
        if (--p->unfinished == 0)
            pthread_cond_broadcast(&p->idle);
        pthread_mutex_unlock(&p->mu);
        free(j);
    }
    return rc;
}

void workq_shutdown(struct workq *q, enum workq_mode mode)
{
    pthread_mutex_lock(&q->mu);
    if (q->joined) {
        pthread_mutex_unlock(&q->mu);
        return;
    }
    q->stopping = true;
    struct job *cancelled = NULL;
    if (mode == WORKQ_CANCEL) {
        cancelled = q->head;
        q->head = q->tail = NULL;
        q->queued = 0;
    }
    pthread_cond_broadcast(&q->cond);
    pthread_mutex_unlock(&q->mu);
    while (cancelled) {
        struct job *next = cancelled->next;
        post(cancelled, -ECANCELED);
        cancelled = next;
    }
    for (unsigned i = 0; i < q->nthreads; i++)
        pthread_join(q->threads[i], NULL);
    pthread_mutex_lock(&q->mu);
    q->joined = true;
    pthread_mutex_unlock(&q->mu);
}

void workq_port_free(struct workq_port *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    while (p->unfinished > 0)
        pthread_cond_wait(&p->idle, &p->mu);
    pthread_mutex_unlock(&p->mu);
    event_free(p->ev);
    close(p->efd);
    deliver(take_finished(p));
    struct workq *q = p->q;
    pthread_mutex_lock(&q->mu);
    q->nports--;
    pthread_mutex_unlock(&q->mu);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->idle);
    free(p);
}

void workq_free(struct workq *q)
{
    if (!q)
        return;
    workq_shutdown(q, WORKQ_DRAIN);
    BUG_ON(q->nports != 0);
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->cond);
    free(q->threads);
    free(q);
}

size_t workq_queued(struct workq *q)
{
    pthread_mutex_lock(&q->mu);
    size_t n = q->queued;
    pthread_mutex_unlock(&q->mu);
    return n;
}
