/*
 * check_workq.c - unit tests for common/workq with real event_bases and
 * threads: completions run on the submitting loop's thread, several loops
 * share one pool, the queue bound answers -EAGAIN, and shutdown drains or
 * cancels with exactly one done() per job. No sleeps: tests wait on
 * conditions (a gate the test opens, counters the loop checks).
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "common/workq.h"

/* A gate that jobs can wait on until the test opens it. */
struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    bool open;
    int waiting;
};

static void gate_init(struct gate *g)
{
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cond, NULL);
    g->open = false;
    g->waiting = 0;
}

static void gate_pass(struct gate *g)
{
    pthread_mutex_lock(&g->mu);
    g->waiting++;
    pthread_cond_broadcast(&g->cond);
    while (!g->open)
        pthread_cond_wait(&g->cond, &g->mu);
    pthread_mutex_unlock(&g->mu);
}

static void gate_wait_for(struct gate *g, int n)
{
    pthread_mutex_lock(&g->mu);
    while (g->waiting < n)
        pthread_cond_wait(&g->cond, &g->mu);
    pthread_mutex_unlock(&g->mu);
}

static void gate_open(struct gate *g)
{
    pthread_mutex_lock(&g->mu);
    g->open = true;
    pthread_cond_broadcast(&g->cond);
    pthread_mutex_unlock(&g->mu);
}

struct loop_ctx {
    struct event_base *base;
    struct workq *q;
    struct workq_port *port;
    pthread_t loop_thread;
    int expected;       /* dones to wait for */
    int dones;          /* touched only on the loop thread */
    int wrong_thread;   /* dones that ran elsewhere */
    int worker_on_loop; /* works that ran on the loop thread */
    int ok, cancelled, failed;
    atomic_int ran;
    struct gate *gate;
};

struct job_arg {
    struct loop_ctx *ctx;
    int id;
    bool gated;
};

static int work_fn(void *arg)
{
    struct job_arg *a = arg;
    if (pthread_equal(pthread_self(), a->ctx->loop_thread))
        a->ctx->worker_on_loop++;
    atomic_fetch_add(&a->ctx->ran, 1);
    if (a->gated)
        gate_pass(a->ctx->gate);
    return a->id % 7 == 3 ? -EIO : 0;
}

static void done_fn(void *arg, int status)
{
    struct job_arg *a = arg;
    struct loop_ctx *c = a->ctx;
    if (!pthread_equal(pthread_self(), c->loop_thread))
        c->wrong_thread++;
    if (status == 0)
        c->ok++;
    else if (status == -ECANCELED)
        c->cancelled++;
    else if (status == -EIO && a->id % 7 == 3)
        c->failed++;
    if (++c->dones == c->expected)
        event_base_loopbreak(c->base);
    free(a);
}

static void ctx_init(struct loop_ctx *c, struct workq *q)
{
    memset(c, 0, sizeof(*c));
    c->base = event_base_new();
    ck_assert_ptr_nonnull(c->base);
    c->q = q;
    c->loop_thread = pthread_self();
    c->port = workq_port_new(q, c->base);
    ck_assert_ptr_nonnull(c->port);
}

static int submit(struct loop_ctx *c, int id, bool gated)
{
    struct job_arg *a = malloc(sizeof(*a));
    a->ctx = c;
    a->id = id;
    a->gated = gated;
    int rc = workq_submit(c->port, work_fn, done_fn, a);
    if (rc)
        free(a);
    return rc;
}

static void run_until_done(struct loop_ctx *c)
{
    if (c->dones < c->expected)
        ck_assert_int_eq(event_base_dispatch(c->base), 0);
    ck_assert_int_eq(c->dones, c->expected);
}

static void ctx_release(struct loop_ctx *c)
{
    workq_port_free(c->port);
    event_base_free(c->base);
}

START_TEST(completions_run_on_the_loop_thread)
{
    struct workq *q = workq_new(4, 2000);
    ck_assert_ptr_nonnull(q);
    struct loop_ctx c;
    ctx_init(&c, q);
    c.expected = 1000;
    for (int i = 0; i < 1000; i++)
        ck_assert_int_eq(submit(&c, i, false), 0);
    run_until_done(&c);
    ck_assert_int_eq(atomic_load(&c.ran), 1000);
    ck_assert_int_eq(c.wrong_thread, 0);
    ck_assert_int_eq(c.worker_on_loop, 0);
    ck_assert_int_eq(c.failed, 143); /* ids with id % 7 == 3 */
    ck_assert_int_eq(c.ok, 857);
    ck_assert_int_eq(c.cancelled, 0);
    ctx_release(&c);
    workq_free(q);
}
END_TEST

static void *loop_thread(void *arg)
{
    struct loop_ctx *c = arg;
    c->loop_thread = pthread_self();
    c->port = workq_port_new(c->q, c->base);
    c->expected = 300;
    for (int i = 0; i < 300; i++) {
        /* A full queue is a legal answer under load: run our own loop
         * while we have work in flight (its completions make room), else
         * let the other loops' jobs drain. */
        while (submit(c, i, false) == -EAGAIN) {
            if (c->dones < i)
                event_base_loop(c->base, EVLOOP_ONCE);
            else
                sched_yield();
        }
    }
    if (c->dones < c->expected)
        event_base_dispatch(c->base);
    workq_port_free(c->port);
    return NULL;
}

START_TEST(several_loops_share_one_pool)
{
    struct workq *q = workq_new(3, 64);
    struct loop_ctx c[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        memset(&c[i], 0, sizeof(c[i]));
        c[i].base = event_base_new();
        c[i].q = q;
        ck_assert_int_eq(pthread_create(&t[i], NULL, loop_thread, &c[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        ck_assert_int_eq(c[i].dones, 300);
        ck_assert_int_eq(atomic_load(&c[i].ran), 300);
        ck_assert_int_eq(c[i].wrong_thread, 0);
        ck_assert_int_eq(c[i].worker_on_loop, 0);
        event_base_free(c[i].base);
    }
    workq_free(q);
}
END_TEST

START_TEST(full_queue_answers_eagain)
{
    struct gate g;
    gate_init(&g);
    struct workq *q = workq_new(1, 2);
    struct loop_ctx c;
    ctx_init(&c, q);
    c.gate = &g;
    ck_assert_int_eq(submit(&c, 0, true), 0);
    gate_wait_for(&g, 1); /* the only worker is now busy */
    ck_assert_int_eq(submit(&c, 1, false), 0);
    ck_assert_int_eq(submit(&c, 2, false), 0);
    ck_assert_uint_eq(workq_queued(q), 2);
    ck_assert_int_eq(submit(&c, 4, false), -EAGAIN);
    ck_assert_uint_eq(workq_queued(q), 2);
    gate_open(&g);
    c.expected = 3;
    run_until_done(&c);
    ck_assert_int_eq(c.ok, 3);
    /* room again */
    ck_assert_int_eq(submit(&c, 5, false), 0);
    c.expected = 4;
    run_until_done(&c);
    ctx_release(&c);
    workq_free(q);
}
END_TEST

struct shut_arg {
    struct workq *q;
    enum workq_mode mode;
};

static void *shutdown_thread(void *arg)
{
    struct shut_arg *s = arg;
    workq_shutdown(s->q, s->mode);
    return NULL;
}

static int noop_work(void *arg)
{
    return 0;
}

START_TEST(cancel_skips_queued_jobs)
{
    struct gate g;
    gate_init(&g);
    struct workq *q = workq_new(1, 100);
    struct loop_ctx c;
    ctx_init(&c, q);
    c.gate = &g;
    ck_assert_int_eq(submit(&c, 0, true), 0);
    gate_wait_for(&g, 1);
    for (int i = 1; i <= 5; i++)
        ck_assert_int_eq(submit(&c, i * 7, false), 0);
    struct shut_arg s = {q, WORKQ_CANCEL};
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, shutdown_thread, &s), 0);
    /* Wait (without sleeping on time) until the shutdown has begun. On a
     * loaded machine the shutdown thread may start late enough for the
     * no-op probes to fill the queue: a full queue (-EAGAIN) means "not
     * yet", like success. */
    int rc;
    while ((rc = workq_submit(c.port, noop_work, NULL, NULL)) == 0 ||
           rc == -EAGAIN)
        sched_yield();
    ck_assert_int_eq(rc, -ESHUTDOWN);
    gate_open(&g);
    pthread_join(t, NULL);
    c.expected = 6;
    run_until_done(&c);
    ck_assert_int_eq(c.ok, 1);
    ck_assert_int_eq(c.cancelled, 5);
    ck_assert_int_eq(atomic_load(&c.ran), 1);
    ck_assert_int_eq(c.wrong_thread, 0);
    ctx_release(&c);
    workq_free(q);
}
END_TEST

START_TEST(drain_runs_everything_and_port_free_delivers)
{
    struct workq *q = workq_new(2, 100);
    struct loop_ctx c;
    ctx_init(&c, q);
    c.expected = 50;
    for (int i = 0; i < 50; i++)
        ck_assert_int_eq(submit(&c, i * 7, false), 0);
    workq_shutdown(q, WORKQ_DRAIN);
    ck_assert_int_eq(atomic_load(&c.ran), 50);
    ck_assert_int_eq(submit(&c, 99, false), -ESHUTDOWN);
    /* The loop never ran: port_free hands the completions over. */
    ck_assert_int_eq(c.dones, 0);
    workq_port_free(c.port);
    ck_assert_int_eq(c.dones, 50);
    ck_assert_int_eq(c.ok, 50);
    ck_assert_int_eq(c.wrong_thread, 0);
    event_base_free(c.base);
    workq_shutdown(q, WORKQ_CANCEL); /* idempotent */
    workq_free(q);
}
END_TEST

START_TEST(port_free_waits_for_running_work)
{
    struct gate g;
    gate_init(&g);
    struct workq *q = workq_new(1, 10);
    struct loop_ctx c;
    ctx_init(&c, q);
    c.gate = &g;
    c.expected = 1;
    ck_assert_int_eq(submit(&c, 0, true), 0);
    gate_wait_for(&g, 1);
    gate_open(&g); /* may finish before or during port_free: both legal */
    workq_port_free(c.port);
    ck_assert_int_eq(c.dones, 1);
    event_base_free(c.base);
    workq_free(q);
    ck_assert_ptr_null(workq_new(0, 1));
    ck_assert_ptr_null(workq_new(1, 0));
    workq_free(NULL);
    workq_port_free(NULL);
}
END_TEST

static Suite *workq_suite(void)
{
    Suite *s = suite_create("workq");
    TCase *tc = tcase_create("workq");
    tcase_add_test(tc, completions_run_on_the_loop_thread);
    tcase_add_test(tc, several_loops_share_one_pool);
    tcase_add_test(tc, full_queue_answers_eagain);
    tcase_add_test(tc, cancel_skips_queued_jobs);
    tcase_add_test(tc, drain_runs_everything_and_port_free_delivers);
    tcase_add_test(tc, port_free_waits_for_running_work);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(workq_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
