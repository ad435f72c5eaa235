/*
 * c-investment: a dibsim contractor/competitor investment rule in C.
 *
 * "Smoothed threshold": the built-in rule (docs/model.md step 10), closing only a
 * `share` of the gap to the target backlog each time. When a line's backlog
 * months m exceed threshold', it orders
 *
 *     dK = min(max_growth * K, (m / target' - 1) * K * share)
 *
 * and nothing otherwise. `share` is the only parameter (default 0.25, in
 * (0, 1]; share = 1 is the built-in rule). It reads no draws.
 *
 * Build: cc -shared -fPIC -O2 -I ../../include -o libc_investment.so c_investment.c
 * See README.md.
 */
#include <stdlib.h>
#include <string.h>

#include "dibsim_plugin.h"

#define DEFAULT_SHARE 0.25

/* The per-run state: plain bytes (the host copies it to fork a run). */
typedef struct state {
    double share;
} state;

/* ---- A reader for the params object, {"share": <number>} ---------------- */

typedef struct reader {
    const uint8_t *s;
    size_t n;
    size_t i;
} reader;

static void skip_ws(reader *r)
{
    while (r->i < r->n &&
           (r->s[r->i] == ' ' || r->s[r->i] == '\t' || r->s[r->i] == '\n' || r->s[r->i] == '\r'))
        r->i++;
}

static int peek(const reader *r)
{
    return r->i < r->n ? r->s[r->i] : -1;
}

/* A JSON string at r->i (the opening quote), its raw bytes (escapes kept) in
 * [*start, *start + *len). Returns 0 when it is not a complete string. */
static int read_string(reader *r, size_t *start, size_t *len)
{
    if (peek(r) != '"')
        return 0;
    r->i++;
    *start = r->i;
    while (r->i < r->n && r->s[r->i] != '"') {
        if (r->s[r->i] == '\\')
            r->i++;
        r->i++;
    }
    if (r->i >= r->n)
        return 0;
    *len = r->i - *start;
    r->i++; /* closing quote */
    return 1;
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

/* A JSON number at r->i (strict grammar), converted with strtod. Returns 0
 * when the text there is not a number. */
static int read_number(reader *r, double *out)
{
    size_t start = r->i;
    char buf[64];
    char *end;
    size_t len;
    if (peek(r) == '-')
        r->i++;
    if (peek(r) == '0') {
        r->i++;
    } else if (is_digit(peek(r))) {
        while (is_digit(peek(r)))
            r->i++;
    } else {
        return 0;
    }
    if (peek(r) == '.') {
        r->i++;
        if (!is_digit(peek(r)))
            return 0;
        while (is_digit(peek(r)))
            r->i++;
    }
    if (peek(r) == 'e' || peek(r) == 'E') {
        r->i++;
        if (peek(r) == '+' || peek(r) == '-')
            r->i++;
        if (!is_digit(peek(r)))
            return 0;
        while (is_digit(peek(r)))
            r->i++;
    }
    len = r->i - start;
    if (len >= sizeof buf)
        return 0;
    /* The params are not NUL-terminated: convert a copy. */
    memcpy(buf, r->s + start, len);
    buf[len] = '\0';
    *out = strtod(buf, &end);
    return end == buf + len;
}

/* What the value at r->i is, for a message. */
static const char *kind_of_value(const reader *r)
{
    switch (peek(r)) {
    case '"':
        return "a string";
    case '{':
        return "an object";
    case '[':
        return "an array";
    case 't':
    case 'f':
        return "a boolean";
    case 'n':
        return "null";
    case -1:
        return "nothing";
    default:
        return "not a number";
    }
}

/* Parses the params into *share. Returns 0, or 1 after writing a message. */
static int parse_params(const uint8_t *params, size_t len, double *share, dibsim_error_out *err)
{
    reader r;
    int seen = 0;
    r.s = params;
    r.n = params == NULL ? 0 : len;
    r.i = 0;
    *share = DEFAULT_SHARE;
    skip_ws(&r);
    if (r.i == r.n) /* no params at all */
        return 0;
    if (peek(&r) != '{') {
        dibsim_error_set(err, DIBSIM_NO_ITEM, "params must be a JSON object, e.g. {\"share\": 0.5}");
        return 1;
    }
    r.i++;
    skip_ws(&r);
    if (peek(&r) == '}') {
        r.i++;
    } else {
        for (;;) {
            size_t key, key_len;
            skip_ws(&r);
            if (!read_string(&r, &key, &key_len)) {
                dibsim_error_set(err, DIBSIM_NO_ITEM, "params: expected a key in quotes");
                return 1;
            }
            if (key_len != 5 || memcmp(params + key, "share", 5) != 0) {
                dibsim_error_printf(err, DIBSIM_NO_ITEM,
                                    "unknown param `%.*s` (this plugin takes only `share`)",
                                    (int)(key_len > 200 ? 200 : key_len), (const char *)params + key);
                return 1;
            }
            if (seen) {
                dibsim_error_set(err, DIBSIM_NO_ITEM, "params: `share` given twice");
                return 1;
            }
            seen = 1;
            skip_ws(&r);
            if (peek(&r) != ':') {
                dibsim_error_set(err, DIBSIM_NO_ITEM, "params: expected `:` after \"share\"");
                return 1;
            }
            r.i++;
            skip_ws(&r);
            {
                const char *kind = kind_of_value(&r);
                if (!read_number(&r, share)) {
                    dibsim_error_printf(err, DIBSIM_NO_ITEM,
                                        "`share` must be a number in (0, 1], got %s", kind);
                    return 1;
                }
            }
            if (!(*share > 0.0 && *share <= 1.0)) {
                dibsim_error_printf(err, DIBSIM_NO_ITEM,
                                    "`share` must be in (0, 1], got %.10g", *share);
                return 1;
            }
            skip_ws(&r);
            if (peek(&r) == ',') {
                r.i++;
                continue;
            }
            if (peek(&r) == '}') {
                r.i++;
                break;
            }
            dibsim_error_set(err, DIBSIM_NO_ITEM, "params: expected `,` or `}`");
            return 1;
        }
    }
    skip_ws(&r);
    if (r.i != r.n) {
        dibsim_error_set(err, DIBSIM_NO_ITEM, "params: unexpected text after the object");
        return 1;
    }
    return 0;
}

/* ---- The plugin's functions --------------------------------------------- */

static int32_t create(const uint8_t *params, size_t params_len, void *st, dibsim_error_out *err)
{
    state s;
    if (st == NULL) {
        dibsim_error_set(err, DIBSIM_NO_ITEM, "no state buffer");
        return DIBSIM_STATUS_ERROR;
    }
    if (parse_params(params, params_len, &s.share, err) != 0)
        return DIBSIM_STATUS_ERROR;
    memcpy(st, &s, sizeof s);
    return DIBSIM_STATUS_OK;
}

/* min and max that ignore a NaN operand, as Rust's f64::min/max (the
 * built-in rule's), without needing libm. */
static double min_of(double a, double b)
{
    if (a != a)
        return b;
    if (b != b)
        return a;
    return a < b ? a : b;
}

static double max_of(double a, double b)
{
    if (a != a)
        return b;
    if (b != b)
        return a;
    return a > b ? a : b;
}

static int32_t invest(void *st, const dibsim_investment_call *call, double *tranches,
                      dibsim_error_out *err)
{
    const state *s = (const state *)st;
    uint32_t k;
    if (st == NULL || call == NULL) {
        dibsim_error_set(err, DIBSIM_NO_ITEM, "called without a state or a call");
        return DIBSIM_STATUS_ERROR;
    }
    if (call->n_lines > 0 && (call->lines == NULL || tranches == NULL)) {
        dibsim_error_set(err, DIBSIM_NO_ITEM, "called with lines but no buffers");
        return DIBSIM_STATUS_ERROR;
    }
    for (k = 0; k < call->n_lines; k++) {
        const dibsim_line_view *l = &call->lines[k];
        double dk = 0.0;
        if (l->backlog_months > l->threshold_months) {
            double gap = (l->backlog_months / l->target_months - 1.0) * l->capacity * s->share;
            dk = max_of(min_of(l->max_growth * l->capacity, gap), 0.0);
        }
        tranches[k] = dk;
    }
    return DIBSIM_STATUS_OK;
}

static const dibsim_plugin_table table = {
    DIBSIM_PLUGIN_MAGIC,
    DIBSIM_ABI_MAJOR,
    DIBSIM_ABI_MINOR,
    sizeof(dibsim_plugin_table),
    "c-investment",
    "0.1.0",
    DIBSIM_SLOT_CONTRACTOR_INVESTMENT | DIBSIM_SLOT_COMPETITOR_INVESTMENT,
    0, /* flags: no draws */
    sizeof(state),
    DIBSIM_ALIGNOF(state),
    create,
    NULL, /* destroy: the state holds nothing to release */
    NULL, /* procure: not a procurement plugin */
    invest,
};

DIBSIM_EXPORT_PLUGIN(table)
