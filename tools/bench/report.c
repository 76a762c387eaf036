/*
 * report.c - table, JSON and the exit-code judgement (see report.h).
 * The SVG is in svg.c.
 */
#include "tools/bench/report.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "common/xalloc.h"

static double secs(uint64_t ns)
{
    return (double)ns / 1e9;
}

static double ms(uint64_t ns)
{
    return (double)ns / 1e6;
}

static double per_s(uint64_t n, uint64_t elapsed_ns)
{
    return elapsed_ns ? (double)n / secs(elapsed_ns) : 0;
}

static uint64_t phase_ops(const struct phase_stats *ps, uint64_t *errors)
{
    uint64_t n = 0, e = 0;
    for (int i = 0; ps && i < BENCH_NOPS; i++) {
        n += stats_done(&ps->op[i]);
        e += ps->op[i].errors;
    }
    *errors += e;
    return n;
}

void report_judge(struct report *rep)
{
    rep->errors = 0;
    rep->ops = phase_ops(rep->prepop, &rep->errors) + phase_ops(rep->measure, &rep->errors) +
               phase_ops(rep->cleanup, &rep->errors);
    const struct bench_opts *o = rep->o;
    bool over;
    if (o->max_errors_pct)
        over = (double)rep->errors * 10000.0 > (double)o->max_errors * (double)rep->ops;
    else
        over = rep->errors > o->max_errors;
    rep->exit_code = over ? 1 : 0;
}

/* ------------------------------------------------------------ table */

static void table_row(FILE *f, const char *name, const struct op_stats *s, uint64_t el)
{
    const struct hist *h = &s->lat;
    fprintf(f, "%-7s %10" PRIu64 " %10.1f %9.2f %8.2f %8.2f %8.2f %8.2f %9.2f %8" PRIu64 "\n",
            name, s->ok, per_s(s->ok, el), per_s(s->bytes, el) / 1e6, ms((uint64_t)hist_mean(h)),
            ms(hist_quantile(h, 0.5)), ms(hist_quantile(h, 0.9)), ms(hist_quantile(h, 0.99)),
            ms(h->max), s->errors);
}

static void error_lines(FILE *f, const struct phase_stats *ps)
{
    for (int i = 0; i < BENCH_NOPS; i++) {
        const struct op_stats *s = &ps->op[i];
        if (!s->errors)
            continue;
        fprintf(f, "  %s errors:", bench_op_method((enum bench_op)i));
        for (int k = 0; k < STATS_MAX_STATUS; k++)
            if (s->err_status[k])
                fprintf(f, " HTTP %d x%" PRIu64 ";", k, s->err_status[k]);
        for (int k = 0; k < STATS_MAX_CURL; k++)
            if (s->err_curl[k])
                fprintf(f, " curl %d (%s) x%" PRIu64 ";", k, curl_easy_strerror((CURLcode)k),
                        s->err_curl[k]);
        if (s->mismatch)
            fprintf(f, " wrong body/ETag x%" PRIu64 ";", s->mismatch);
        fputc('\n', f);
    }
}

static void phase_line(FILE *f, const char *what, const struct phase_stats *ps,
                       enum bench_op op)
{
    const struct op_stats *s = &ps->op[op];
    fprintf(f, "%-12s %" PRIu64 " %s in %.2f s (%.1f/s), %" PRIu64 " errors", what, s->ok,
            bench_op_method(op), secs(ps->elapsed_ns), per_s(s->ok, ps->elapsed_ns), s->errors);
    if (ps->retried)
        fprintf(f, ", %" PRIu64 " failed DELETEs retried", ps->retried);
    fprintf(f, "%s\n", ps->interrupted ? ", interrupted" : "");
    error_lines(f, ps);
}

void report_table(FILE *f, const struct report *rep)
{
    const struct bench_opts *o = rep->o;
    fprintf(f, "cairn-bench  %s  (objects %s-*)\n", rep->storage_url, rep->tag);
    fprintf(f, "workload     mix %s  size %s  concurrency %u  containers %u  ", o->mix_text,
            o->size_text, o->concurrency, o->containers);
    if (o->count)
        fprintf(f, "count %" PRIu64 "%s\n", o->count, o->verify ? "  verify" : "");
    else
        fprintf(f, "duration %.1f s%s\n", secs(o->duration_ns), o->verify ? "  verify" : "");
    if (rep->prepop)
        phase_line(f, "prepopulate", rep->prepop, BENCH_PUT);

    const struct phase_stats *ps = rep->measure;
    if (ps) {
        fprintf(f, "\nmeasured %.2f s%s%s\n", secs(ps->elapsed_ns),
                ps->interrupted ? " (interrupted)" : "",
                ps->exhausted ? " (stopped early: no object left to act on)" : "");
        fprintf(f, "%-7s %10s %10s %9s %8s %8s %8s %8s %9s %8s\n", "op", "ok", "ok/s", "MB/s",
                "mean ms", "p50 ms", "p90 ms", "p99 ms", "max ms", "errors");
        int rows = 0;
        for (int i = 0; i < BENCH_NOPS; i++) {
            if (!stats_done(&ps->op[i]) && !o->mix[i])
                continue;
            table_row(f, bench_op_method((enum bench_op)i), &ps->op[i], ps->elapsed_ns);
            rows++;
        }
        if (rows > 1) {
            struct op_stats *tot = xmalloc(sizeof(*tot));
            stats_total(ps, tot);
            table_row(f, "total", tot, ps->elapsed_ns);
            free(tot);
        }
        error_lines(f, ps);
        double cpu = ps->cpu_user + ps->cpu_sys;
        fprintf(f, "cpu          cairn-bench used %.2f of a core (user %.2f s, sys %.2f s)\n",
                ps->elapsed_ns ? cpu / secs(ps->elapsed_ns) : 0, ps->cpu_user, ps->cpu_sys);
        fprintf(f, "machine      %ld CPUs, load average %.2f at start, %.2f at end\n",
                sysconf(_SC_NPROCESSORS_ONLN), ps->load_start, ps->load_end);
    }
    if (rep->cleanup)
        phase_line(f, "cleanup", rep->cleanup, BENCH_DELETE);
    if (rep->objects_left || rep->containers_left)
        fprintf(f, "left behind  %" PRIu64 " objects, %u containers created by this run\n",
                rep->objects_left, rep->containers_left);
    if (rep->exit_code && o->max_errors_pct)
        fprintf(f, "FAILED       %" PRIu64 " errors in %" PRIu64 " requests, more than --max-errors %.2f%%\n",
                rep->errors, rep->ops, (double)o->max_errors / 100);
    else if (rep->exit_code)
        fprintf(f, "FAILED       %" PRIu64 " errors in %" PRIu64 " requests, more than --max-errors %" PRIu64 "\n",
                rep->errors, rep->ops, o->max_errors);
}

/* ------------------------------------------------------------ JSON */

static json_t *jreal(double v, double scale)
{
    return json_real(round(v * scale) / scale);
}

static json_t *op_json(const struct op_stats *s, uint64_t el)
{
    const struct hist *h = &s->lat;
    json_t *j = json_object();
    json_object_set_new(j, "ops", json_integer((json_int_t)stats_done(s)));
    json_object_set_new(j, "ok", json_integer((json_int_t)s->ok));
    json_object_set_new(j, "errors", json_integer((json_int_t)s->errors));
    json_object_set_new(j, "ops_per_s", jreal(per_s(s->ok, el), 100));
    json_object_set_new(j, "bytes", json_integer((json_int_t)s->bytes));
    json_object_set_new(j, "mb_per_s", jreal(per_s(s->bytes, el) / 1e6, 1000));
    json_t *lat = json_object();
    json_object_set_new(lat, "mean", jreal(hist_mean(h) / 1e6, 1000));
    json_object_set_new(lat, "min", jreal(ms(h->count ? h->min : 0), 1000));
    json_object_set_new(lat, "p50", jreal(ms(hist_quantile(h, 0.5)), 1000));
    json_object_set_new(lat, "p90", jreal(ms(hist_quantile(h, 0.9)), 1000));
    json_object_set_new(lat, "p99", jreal(ms(hist_quantile(h, 0.99)), 1000));
    json_object_set_new(lat, "p999", jreal(ms(hist_quantile(h, 0.999)), 1000));
    json_object_set_new(lat, "max", jreal(ms(h->max), 1000));
    json_object_set_new(j, "latency_ms", lat);
    json_t *st = json_object();
    for (int k = 0; k < STATS_MAX_STATUS; k++) {
        if (s->err_status[k]) {
            char key[16];
            snprintf(key, sizeof(key), "%d", k);
            json_object_set_new(st, key, json_integer((json_int_t)s->err_status[k]));
        }
    }
    json_object_set_new(j, "errors_by_status", st);
    json_t *cu = json_array();
    for (int k = 0; k < STATS_MAX_CURL; k++) {
        if (s->err_curl[k]) {
            json_array_append_new(cu, json_pack("{s:i,s:s,s:I}", "code", k, "message",
                                                curl_easy_strerror((CURLcode)k), "count",
                                                (json_int_t)s->err_curl[k]));
        }
    }
    json_object_set_new(j, "errors_by_curl", cu);
    json_object_set_new(j, "body_mismatch", json_integer((json_int_t)s->mismatch));
    return j;
}

static json_t *phase_json(const struct phase_stats *ps)
{
    json_t *j = json_object();
    json_object_set_new(j, "elapsed_s", jreal(secs(ps->elapsed_ns), 1000));
    json_object_set_new(j, "interrupted", json_boolean(ps->interrupted));
    json_object_set_new(j, "exhausted", json_boolean(ps->exhausted));
    json_object_set_new(j, "retried", json_integer((json_int_t)ps->retried));
    json_object_set_new(j, "cpu", json_pack("{s:o,s:o,s:o}", "user_s", jreal(ps->cpu_user, 1000),
                                            "sys_s", jreal(ps->cpu_sys, 1000), "cores",
                                            jreal(ps->elapsed_ns ? (ps->cpu_user + ps->cpu_sys) /
                                                                       secs(ps->elapsed_ns)
                                                                 : 0,
                                                  1000)));
    json_object_set_new(j, "loadavg_start", jreal(ps->load_start, 100));
    json_object_set_new(j, "loadavg_end", jreal(ps->load_end, 100));
    json_t *ops = json_object();
    for (int i = 0; i < BENCH_NOPS; i++)
        if (stats_done(&ps->op[i]))
            json_object_set_new(ops, bench_op_name((enum bench_op)i),
                                op_json(&ps->op[i], ps->elapsed_ns));
    struct op_stats *tot = xmalloc(sizeof(*tot));
    stats_total(ps, tot);
    json_object_set_new(ops, "total", op_json(tot, ps->elapsed_ns));
    free(tot);
    json_object_set_new(j, "ops", ops);
    json_t *tl = json_array();
    for (size_t i = 0; i < ps->nticks; i++) {
        const struct tick *t = &ps->ticks[i];
        json_array_append_new(
            tl, json_pack("{s:I,s:I,s:I,s:I,s:o,s:o,s:o}", "t", (json_int_t)i, "ops",
                          (json_int_t)t->ops, "errors", (json_int_t)t->errors, "bytes",
                          (json_int_t)t->bytes, "p50_ms", jreal(ms(t->p50), 1000), "p99_ms",
                          jreal(ms(t->p99), 1000), "max_ms", jreal(ms(t->max), 1000)));
    }
    json_object_set_new(j, "timeline", tl);
    return j;
}

int report_json(const char *path, const struct report *rep, struct err *e)
{
    const struct bench_opts *o = rep->o;
    json_t *root = json_object();
    json_object_set_new(root, "tool", json_string("cairn-bench"));
    json_object_set_new(root, "format", json_integer(1));
    json_object_set_new(root, "label", o->label ? json_string(o->label) : json_null());
    json_object_set_new(root, "started", json_string(rep->started));
    json_object_set_new(root, "storage_url", json_string(rep->storage_url));
    json_object_set_new(root, "auth_url",
                        o->auth_url && !o->token ? json_string(o->auth_url) : json_null());
    json_object_set_new(root, "tag", json_string(rep->tag));
    json_object_set_new(root, "cpus", json_integer(sysconf(_SC_NPROCESSORS_ONLN)));

    json_t *cfg = json_object();
    json_t *mix = json_object();
    for (int i = 0; i < BENCH_NOPS; i++)
        if (o->mix[i])
            json_object_set_new(mix, bench_op_name((enum bench_op)i),
                                json_integer((json_int_t)o->mix[i]));
    json_object_set_new(cfg, "mix", mix);
    json_object_set_new(cfg, "size", json_string(o->size_text));
    json_t *sizes = json_array();
    for (unsigned i = 0; i < o->size.n; i++)
        json_array_append_new(sizes, json_pack("{s:I,s:I,s:I}", "min", (json_int_t)o->size.e[i].lo,
                                               "max", (json_int_t)o->size.e[i].hi, "weight",
                                               (json_int_t)o->size.e[i].weight));
    json_object_set_new(cfg, "sizes", sizes);
    json_object_set_new(cfg, "concurrency", json_integer(o->concurrency));
    json_object_set_new(cfg, "duration_s", o->count ? json_null() : jreal(secs(o->duration_ns), 1000));
    json_object_set_new(cfg, "count", o->count ? json_integer((json_int_t)o->count) : json_null());
    json_object_set_new(cfg, "containers", json_integer(o->containers));
    json_object_set_new(cfg, "container_prefix", json_string(o->container_prefix));
    json_object_set_new(cfg, "prepopulate_count", json_integer((json_int_t)o->prepop_count));
    json_object_set_new(cfg, "prepopulate_s", jreal(secs(o->prepop_ns), 1000));
    json_object_set_new(cfg, "verify", json_boolean(o->verify));
    json_object_set_new(cfg, "cleanup", json_boolean(o->cleanup));
    json_object_set_new(cfg, "seed", json_integer((json_int_t)o->seed));
    json_object_set_new(cfg, "max_errors", o->max_errors_pct
                                               ? json_sprintf("%.2f%%", (double)o->max_errors / 100)
                                               : json_integer((json_int_t)o->max_errors));
    json_object_set_new(root, "config", cfg);

    json_t *phases = json_object();
    if (rep->prepop)
        json_object_set_new(phases, "prepopulate", phase_json(rep->prepop));
    if (rep->measure)
        json_object_set_new(phases, "measure", phase_json(rep->measure));
    if (rep->cleanup)
        json_object_set_new(phases, "cleanup", phase_json(rep->cleanup));
    json_object_set_new(root, "phases", phases);
    json_object_set_new(root, "objects_left", json_integer((json_int_t)rep->objects_left));
    json_object_set_new(root, "containers_left", json_integer(rep->containers_left));
    json_object_set_new(root, "errors", json_integer((json_int_t)rep->errors));
    json_object_set_new(root, "requests", json_integer((json_int_t)rep->ops));
    json_object_set_new(root, "exit_code", json_integer(rep->exit_code));

    int rc = 0;
    if (json_dump_file(root, path, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12)) != 0)
        rc = err_set(e, -EIO, "--json %s: cannot write: %s", path, strerror(errno));
    json_decref(root);
    return rc;
}
