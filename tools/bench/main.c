/*
 * main.c - cairn-bench: a load generator for the OpenStack Swift API.
 *
 * Order of a run: parse arguments (exit 2 on any mistake), authenticate,
 * create the containers, optionally prepopulate, measure, optionally clean
 * up, then report (table on stdout, --json, --svg) and judge the exit code
 * against --max-errors. Everything runs on this one thread; see run.h for
 * the engine and tools/bench/README.md for the figures' meaning.
 */
#include <curl/curl.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/err.h"
#include "common/util.h"
#include "common/xalloc.h"
#include "tools/bench/opts.h"
#include "tools/bench/report.h"
#include "tools/bench/run.h"
#include "tools/bench/stats.h"
#include "tools/bench/swift.h"

#define BENCH_VERSION "1.0"

/* --phase-cmd: runs the command with PHASE and EVENT set and waits for it,
 * so that what it snapshots brackets exactly one phase. Its failure is
 * reported but does not stop the run (it only observes). */
static void phase_cmd(const struct bench_opts *o, const char *phase, const char *event)
{
    if (!o->phase_cmd)
        return;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == -1) {
        perror("cairn-bench: --phase-cmd: fork");
        return;
    }
    if (pid == 0) {
        setenv("PHASE", phase, 1);
        setenv("EVENT", event, 1);
        execl("/bin/sh", "sh", "-c", o->phase_cmd, (char *)NULL);
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) == -1)
        ;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fprintf(stderr, "cairn-bench: --phase-cmd failed (%s %s)\n", phase, event);
}

/* One phase between its two --phase-cmd calls. */
static void phase(const struct bench_opts *o, struct run *r, enum run_phase kind,
                  struct phase_stats *ps, bool progress)
{
    const char *name = kind == RUN_PREPOP ? "prepopulate"
                       : kind == RUN_MEASURE ? "measure" : "cleanup";
    phase_cmd(o, name, "start");
    run_phase(r, kind, ps, progress);
    phase_cmd(o, name, "end");
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = run_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

int main(int argc, char **argv)
{
    struct bench_opts o;
    struct err e;
    err_clear(&e);
    int rc = opts_parse(&o, argc, argv, &e);
    if (rc < 0) {
        fprintf(stderr, "cairn-bench: %s\n", e.msg);
        return 2;
    }
    if (rc == OPTS_HELP) {
        opts_usage();
        return 0;
    }
    if (rc == OPTS_VERSION) {
        printf("cairn-bench %s (%s)\n", BENCH_VERSION, curl_version());
        return 0;
    }
    if (o.seed == 0)
        o.seed = (now_mono_ns() ^ ((uint64_t)getpid() << 40)) | 1;

    if (curl_global_init(CURL_GLOBAL_ALL) != CURLE_OK) {
        fprintf(stderr, "cairn-bench: curl_global_init failed\n");
        return 1;
    }
    install_signals();

    int exit_code = 1;
    char *storage_url = NULL, *token = NULL;
    struct run *r = NULL;
    struct report rep;
    memset(&rep, 0, sizeof(rep));
    rep.o = &o;

    if (o.token) {
        storage_url = xstrdup(o.storage_url);
        token = xstrdup(o.token);
    } else {
        if (swift_auth_v1(o.auth_url, o.user, o.key, o.insecure, &storage_url, &token, &e)) {
            fprintf(stderr, "cairn-bench: %s\n", e.msg);
            goto out;
        }
        if (o.storage_url) {
            free(storage_url);
            storage_url = xstrdup(o.storage_url);
        }
    }
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(rep.started, sizeof(rep.started), "%Y-%m-%dT%H:%M:%SZ", &tm);

    r = run_new(&o, storage_url, token);
    rep.storage_url = storage_url;
    rep.tag = run_tag(r);
    if (run_create_containers(r, &e)) {
        fprintf(stderr, "cairn-bench: %s\n", e.msg);
        goto out;
    }
    bool progress = !o.quiet && isatty(STDERR_FILENO);
    bool stopped = false;
    if (o.prepop_count || o.prepop_ns) {
        rep.prepop = stats_new("prepopulate");
        phase(&o, r, RUN_PREPOP, rep.prepop, progress);
        stopped = rep.prepop->interrupted;
    }
    if (!stopped) {
        rep.measure = stats_new("measure");
        phase(&o, r, RUN_MEASURE, rep.measure, progress);
        stopped = rep.measure->interrupted;
    }
    if (o.cleanup) {
        rep.cleanup = stats_new("cleanup");
        phase(&o, r, RUN_CLEANUP, rep.cleanup, progress);
        if (!rep.cleanup->interrupted)
            run_delete_containers(r);
    }
    rep.objects_left = run_live_objects(r);
    rep.containers_left = run_containers_created(r);

    report_judge(&rep);
    report_table(stdout, &rep);
    fflush(stdout);
    exit_code = rep.exit_code;
    if (stopped || (rep.cleanup && rep.cleanup->interrupted))
        exit_code = 1;
    if (o.json_path && report_json(o.json_path, &rep, &e)) {
        fprintf(stderr, "cairn-bench: %s\n", e.msg);
        exit_code = 1;
    }
    if (o.svg_path && report_svg(o.svg_path, &rep, &e)) {
        fprintf(stderr, "cairn-bench: %s\n", e.msg);
        exit_code = 1;
    }
out:
    stats_free(rep.prepop);
    stats_free(rep.measure);
    stats_free(rep.cleanup);
    run_free(r);
    free(storage_url);
    free(token);
    curl_global_cleanup();
    return exit_code;
}
