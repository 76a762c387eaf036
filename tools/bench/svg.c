/*
 * svg.c - report_svg(): two charts of the measured phase in one
 * self-contained SVG (no script, no external fonts or styles).
 *
 *   top:    latency over time, per-second p50 and p99 of all operations;
 *   bottom: the latency percentile curve (x = number of nines, so 90 %,
 *           99 %, 99.9 % ... are evenly spaced), total and per operation.
 *
 * Both latency axes are logarithmic: a p99 ten times the p50 is common and a
 * linear axis would flatten the p50 line to the floor.
 */
#include "tools/bench/report.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "common/xalloc.h"

#define W 960
#define PLOT_X0 90
#define PLOT_X1 (W - 150)
#define CHART_H 250

static const char *const op_color[BENCH_NOPS] = {"#1f77b4", "#2ca02c", "#9467bd", "#d62728"};

struct axis {
    double lo, hi; /* log10 of ms */
};

static void escape(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
    }
}

static void axis_widen(struct axis *a, double v_ms)
{
    if (v_ms <= 0)
        return;
    double l = log10(v_ms);
    if (l < a->lo)
        a->lo = l;
    if (l > a->hi)
        a->hi = l;
}

static void axis_round(struct axis *a)
{
    if (a->lo > a->hi) { /* no data */
        a->lo = -1;
        a->hi = 2;
    }
    a->lo = floor(a->lo);
    a->hi = ceil(a->hi);
    if (a->hi <= a->lo)
        a->hi = a->lo + 1;
}

static double ymap(const struct axis *a, double v_ms, double y0, double y1)
{
    double l = v_ms > 0 ? log10(v_ms) : a->lo;
    if (l < a->lo)
        l = a->lo;
    return y1 - (l - a->lo) / (a->hi - a->lo) * (y1 - y0);
}

static void y_axis(FILE *f, const struct axis *a, double y0, double y1)
{
    for (double k = a->lo; k <= a->hi + 1e-9; k += 1) {
        double y = ymap(a, pow(10, k), y0, y1);
        fprintf(f, "<line x1='%d' y1='%.1f' x2='%d' y2='%.1f' stroke='#ddd'/>\n", PLOT_X0, y,
                PLOT_X1, y);
        fprintf(f, "<text x='%d' y='%.1f' text-anchor='end' font-size='11'>%g ms</text>\n",
                PLOT_X0 - 6, y + 4, pow(10, k));
    }
    fprintf(f, "<rect x='%d' y='%.1f' width='%d' height='%.1f' fill='none' stroke='#888'/>\n",
            PLOT_X0, y0, PLOT_X1 - PLOT_X0, y1 - y0);
}

static void legend(FILE *f, int row, double y0, const char *color, const char *dash,
                   const char *text)
{
    double y = y0 + 14 + row * 18;
    fprintf(f, "<line x1='%d' y1='%.1f' x2='%d' y2='%.1f' stroke='%s' stroke-width='2'%s/>\n",
            PLOT_X1 + 12, y - 4, PLOT_X1 + 36, y - 4, color, dash);
    fprintf(f, "<text x='%d' y='%.1f' font-size='12'>%s</text>\n", PLOT_X1 + 42, y, text);
}

/* Latency over time: one polyline per quantile, broken at empty seconds. */
static void time_chart(FILE *f, const struct phase_stats *ps, double y0, double y1)
{
    struct axis a = {INFINITY, -INFINITY};
    for (size_t i = 0; i < ps->nticks; i++) {
        axis_widen(&a, (double)ps->ticks[i].p50 / 1e6);
        axis_widen(&a, (double)ps->ticks[i].p99 / 1e6);
    }
    axis_round(&a);
    fprintf(f, "<text x='%d' y='%.1f' font-size='14' font-weight='bold'>Latency over time "
               "(per second, successful requests)</text>\n", PLOT_X0, y0 - 10);
    y_axis(f, &a, y0, y1);
    size_t n = ps->nticks > 1 ? ps->nticks : 1;
    double dx = (double)(PLOT_X1 - PLOT_X0) / (double)n;
    size_t step = n <= 10 ? 1 : n <= 30 ? 5 : n <= 120 ? 10 : n <= 600 ? 60 : 300;
    for (size_t t = 0; t <= n; t += step) {
        double x = PLOT_X0 + dx * (double)t;
        fprintf(f, "<text x='%.1f' y='%.1f' text-anchor='middle' font-size='11'>%zus</text>\n", x,
                y1 + 15, t);
    }
    static const char *const dashes[2] = {"", " stroke-dasharray='5,3'"};
    for (int q = 0; q < 2; q++) {
        bool open = false;
        for (size_t i = 0; i < ps->nticks; i++) {
            const struct tick *t = &ps->ticks[i];
            bool have = t->ops > t->errors;
            if (!have) {
                if (open)
                    fputs("'/>\n", f);
                open = false;
                continue;
            }
            double x = PLOT_X0 + dx * ((double)i + 0.5);
            double y = ymap(&a, (double)(q ? t->p99 : t->p50) / 1e6, y0, y1);
            if (!open)
                fprintf(f, "<polyline fill='none' stroke='#000' stroke-width='1.5'%s points='",
                        dashes[q]);
            fprintf(f, "%.1f,%.1f ", x, y);
            open = true;
        }
        if (open)
            fputs("'/>\n", f);
    }
    legend(f, 0, y0, "#000", "", "p50");
    legend(f, 1, y0, "#000", " stroke-dasharray='5,3'", "p99");
}

#define NINES_STEP 0.02

static void curve(FILE *f, const struct hist *h, double xmax, const struct axis *a, double y0,
                  double y1, const char *color, double width)
{
    fprintf(f, "<polyline fill='none' stroke='%s' stroke-width='%.1f' points='", color, width);
    for (double x = 0; x <= xmax + 1e-9; x += NINES_STEP) {
        double q = 1 - pow(10, -x);
        double v = (double)hist_quantile(h, q) / 1e6;
        double px = PLOT_X0 + x / xmax * (PLOT_X1 - PLOT_X0);
        fprintf(f, "%.1f,%.1f ", px, ymap(a, v, y0, y1));
    }
    fputs("'/>\n", f);
}

static void percentile_chart(FILE *f, const struct phase_stats *ps, double y0, double y1)
{
    struct op_stats *tot = xmalloc(sizeof(*tot));
    stats_total(ps, tot);
    /* As many nines as the sample count supports, 1..6. */
    double xmax = tot->lat.count > 1 ? floor(log10((double)tot->lat.count)) : 1;
    if (xmax < 1)
        xmax = 1;
    if (xmax > 6)
        xmax = 6;
    struct axis a = {INFINITY, -INFINITY};
    axis_widen(&a, (double)tot->lat.min / 1e6);
    axis_widen(&a, (double)tot->lat.max / 1e6);
    axis_round(&a);
    fprintf(f, "<text x='%d' y='%.1f' font-size='14' font-weight='bold'>Latency by percentile "
               "(%llu successful requests)</text>\n", PLOT_X0, y0 - 10,
            (unsigned long long)tot->lat.count);
    y_axis(f, &a, y0, y1);
    for (int k = 0; k <= (int)xmax; k++) {
        double px = PLOT_X0 + k / xmax * (PLOT_X1 - PLOT_X0);
        char label[16];
        if (k == 0)
            snprintf(label, sizeof(label), "0%%");
        else
            snprintf(label, sizeof(label), "%.*f%%", k > 2 ? k - 2 : 0, 100 - pow(10, 2 - k));
        fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#ddd'/>\n", px, y0, px,
                y1);
        fprintf(f, "<text x='%.1f' y='%.1f' text-anchor='middle' font-size='11'>%s</text>\n", px,
                y1 + 15, label);
    }
    int row = 0, nops = 0;
    for (int i = 0; i < BENCH_NOPS; i++)
        if (ps->op[i].lat.count)
            nops++;
    if (tot->lat.count) {
        if (nops > 1) {
            for (int i = 0; i < BENCH_NOPS; i++) {
                if (!ps->op[i].lat.count)
                    continue;
                curve(f, &ps->op[i].lat, xmax, &a, y0, y1, op_color[i], 1.5);
                legend(f, row++, y0, op_color[i], "", bench_op_method((enum bench_op)i));
            }
        }
        curve(f, &tot->lat, xmax, &a, y0, y1, "#000", 2);
        const char *name = "all";
        for (int i = 0; nops == 1 && i < BENCH_NOPS; i++)
            if (ps->op[i].lat.count)
                name = bench_op_method((enum bench_op)i);
        legend(f, row, y0, "#000", "", name);
    }
    free(tot);
}

int report_svg(const char *path, const struct report *rep, struct err *e)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return err_set(e, -errno, "--svg %s: cannot write: %s", path, strerror(errno));
    const struct phase_stats *ps = rep->measure;
    int h = 2 * CHART_H + 170;
    fprintf(f, "<?xml version='1.0' encoding='UTF-8'?>\n"
               "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' "
               "viewBox='0 0 %d %d' font-family='sans-serif'>\n"
               "<rect width='100%%' height='100%%' fill='#fff'/>\n", W, h, W, h);
    fputs("<text x='10' y='20' font-size='13'>cairn-bench ", f);
    if (rep->o->label) {
        escape(f, rep->o->label);
        fputs(" — ", f);
    }
    escape(f, rep->storage_url);
    fprintf(f, "</text>\n<text x='10' y='38' font-size='12'>mix %s, size ", rep->o->mix_text);
    escape(f, rep->o->size_text);
    fprintf(f, ", concurrency %u, %.1f s, started %s</text>\n", rep->o->concurrency,
            ps ? (double)ps->elapsed_ns / 1e9 : 0.0, rep->started);
    if (ps) {
        time_chart(f, ps, 75, 75 + CHART_H);
        percentile_chart(f, ps, 75 + CHART_H + 70, 75 + 2 * CHART_H + 70);
    }
    fputs("</svg>\n", f);
    int rc = 0;
    if (ferror(f))
        rc = err_set(e, -EIO, "--svg %s: write error", path);
    if (fclose(f) != 0 && rc == 0)
        rc = err_set(e, -errno, "--svg %s: cannot write: %s", path, strerror(errno));
    return rc;
}
