/*
 * lib/graphql/lexer.c — GraphQL tokens (spec §2.1): punctuators, names, numbers,
 * strings with escapes and block strings. Columns count code points, so that a
 * location matches what an editor shows; they are tracked incrementally so a
 * long single-line document stays linear.
 */
#include "graphql/graphql_int.h"

#include <stdarg.h>
#include <string.h>

static const char *const kind_names[] = {
    "<SOF>", "<EOF>", "!", "$", "&", "(",    ")",   "...",   ":",      "=",          "@",
    "[",     "]",     "{", "|", "}", "Name", "Int", "Float", "String", "BlockString"};

/* The name graphql-js gives a token kind in messages ("Name", "{", "<EOF>"). */
const char *
ag_graphql__tok_kind_name(ag_graphql__tok_kind_t k)
{
    return kind_names[k];
}

/* A token for a message: punctuators quoted, values after their kind name. */
const char *
ag_graphql__tok_desc(ag_arena_t *a, const ag_graphql__token_t *t)
{
    if (t->kind == TK_EOF)
        return "<EOF>";
    if (t->kind < TK_NAME)
        return ag_arena_printf(a, "\"%s\"", kind_names[t->kind]);
    return ag_arena_printf(a, "%s \"%s\"", kind_names[t->kind], t->value ? t->value : "");
}

void
ag_graphql__lex_init(ag_graphql__lexer_t *lx, ag_arena_t *a, const char *src, size_t len)
{
    memset(lx, 0, sizeof(*lx));
    lx->src = lx->p = lx->line_start = src;
    lx->end = src + len;
    lx->line = 1;
    lx->arena = a;
    lx->tok.kind = TK_SOF;
    /* a byte order mark is ignored (spec §2.1.1) */
    if (len >= 3 && memcmp(src, "\xEF\xBB\xBF", 3) == 0)
        lx->p = lx->line_start = src + 3;
}

/* Column of p on the current line, counting code points; p never moves back
 * on a line, so counting resumes from the last position asked about. */
static uint32_t
col_at(ag_graphql__lexer_t *lx, const char *p)
{
    const char *q = lx->line_start;
    uint32_t    col = 1;

    if (lx->col_ptr >= q && lx->col_ptr <= p) {
        q = lx->col_ptr;
        col = lx->col_val;
    }
    for (; q < p; q++)
        if (((unsigned char)*q & 0xC0) != 0x80)
            col++;
    lx->col_ptr = p;
    lx->col_val = col;
    return col;
}

static ag_status_t fail_at(ag_graphql__lexer_t *lx, const char *p, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static ag_status_t
fail_at(ag_graphql__lexer_t *lx, const char *p, const char *fmt, ...)
{
    char    msg[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    lx->err_loc.line = lx->line;
    lx->err_loc.col = col_at(lx, p);
    lx->err = ag_arena_printf(lx->arena, "Syntax Error: %s", msg);
    return lx->err ? AG_EBADREQ : AG_ENOMEM;
}

/* A character for a message: "x" when printable ASCII, else U+XXXX. */
static const char *
char_desc(char *buf, size_t n, const char *p, const char *end)
{
    unsigned char c = p < end ? (unsigned char)*p : 0;
    if (p >= end)
        snprintf(buf, n, "<EOF>");
    else if (c == '"')
        snprintf(buf, n, "'\"'");
    else if (c >= 0x20 && c < 0x7F)
        snprintf(buf, n, "\"%c\"", c);
    else
        snprintf(buf, n, "U+%04X", c);
    return buf;
}

static void
newline(ag_graphql__lexer_t *lx, const char *next_line)
{
    lx->line++;
    lx->line_start = next_line;
}

/* Skip white space, line terminators, commas and comments. */
static void
skip_ignored(ag_graphql__lexer_t *lx)
{
    const char *p = lx->p, *end = lx->end;
    while (p < end) {
        char c = *p;
        if (c == ' ' || c == '\t' || c == ',') {
            p++;
        } else if (c == '\n') {
            newline(lx, ++p);
        } else if (c == '\r') {
            p++;
            if (p < end && *p == '\n')
                p++;
            newline(lx, p);
        } else if (c == '#') {
            while (p < end && *p != '\n' && *p != '\r')
                p++;
        } else if ((unsigned char)c == 0xEF && end - p >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
            p += 3;
        } else {
            break;
        }
    }
    lx->p = p;
}

static bool
is_name_start(char c)
{
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
static bool
is_digit(char c)
{
    return c >= '0' && c <= '9';
}
static bool
is_name_char(char c)
{
    return is_name_start(c) || is_digit(c);
}

/* Append code point cp as UTF-8 to out (room for 4 bytes). */
static size_t
utf8_put(char *out, uint32_t cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static int
hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Read \uXXXX (4 digits) at p (pointing after "\u"); -1 when malformed. */
static long
read_hex4(const char *p, const char *end)
{
    long v = 0;
    if (end - p < 4)
        return -1;
    for (int i = 0; i < 4; i++) {
        int h = hexval(p[i]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

/*
 * A \u escape at p (pointing at the backslash): fixed \uXXXX, a surrogate
 * pair \uD83D\uDE00, or variable width \u{1F600}. Sets *cp and returns the
 * bytes consumed, 0 when invalid.
 */
static size_t
read_unicode_escape(const char *p, const char *end, uint32_t *cp)
{
    const char *q = p + 2;
    if (q < end && *q == '{') {
        uint32_t v = 0;
        q++;
        const char *digits = q;
        while (q < end && *q != '}') {
            int h = hexval(*q);
            if (h < 0 || q - digits >= 8)
                return 0;
            v = v * 16 + (uint32_t)h;
            if (v > 0x10FFFF)
                return 0;
            q++;
        }
        if (q >= end || q == digits || (v >= 0xD800 && v <= 0xDFFF))
            return 0;
        *cp = v;
        return (size_t)(q + 1 - p);
    }
    long hi = read_hex4(q, end);
    if (hi < 0)
        return 0;
    if (hi >= 0xD800 && hi <= 0xDBFF) {
        /* a leading surrogate must be followed by a trailing one */
        if (end - (q + 4) >= 6 && q[4] == '\\' && q[5] == 'u') {
            long lo = read_hex4(q + 6, end);
            if (lo >= 0xDC00 && lo <= 0xDFFF) {
                *cp = 0x10000 + (((uint32_t)hi - 0xD800) << 10) + ((uint32_t)lo - 0xDC00);
                return 12;
            }
        }
        return 0;
    }
    if (hi >= 0xDC00 && hi <= 0xDFFF)
        return 0;
    *cp = (uint32_t)hi;
    return 6;
}

/* "..." string at lx->p (the opening quote); decodes escapes into the arena. */
static ag_status_t
lex_string(ag_graphql__lexer_t *lx)
{
    const char *p = lx->p + 1, *end = lx->end;
    char       *out, *o;

    /* the decoded form is never longer than the raw text */
    const char *q = p;
    while (q < end && *q != '"' && *q != '\n' && *q != '\r')
        q += (*q == '\\' && q + 1 < end) ? 2 : 1;
    if ((out = ag_arena_alloc(lx->arena, (size_t)(q - p) + 1)) == NULL)
        return AG_ENOMEM;
    o = out;
    while (p < end) {
        unsigned char c = (unsigned char)*p;
        if (c == '"') {
            *o = '\0';
            lx->tok.kind = TK_STRING;
            lx->tok.value = out;
            lx->tok.value_len = (size_t)(o - out);
            lx->p = p + 1;
            return AG_OK;
        }
        if (c == '\n' || c == '\r')
            break;
        if (c < 0x20 && c != '\t')
            return fail_at(lx, p, "Invalid character within String: U+%04X.", c);
        if (c != '\\') {
            *o++ = (char)c;
            p++;
            continue;
        }
        if (p + 1 >= end)
            break;
        char        e = p[1];
        const char *simple = strchr("\"\\/bfnrt", e);
        if (e && simple) {
            static const char map[] = "\"\\/\b\f\n\r\t";
            *o++ = map[simple - "\"\\/bfnrt"];
            p += 2;
        } else if (e == 'u') {
            uint32_t cp;
            size_t   used = read_unicode_escape(p, end, &cp);
            if (used == 0) {
                size_t show = 2;
                while (p + show < end && show < 12 && p[show] != '"' && p[show] != '\\' &&
                       p[show] != '\n')
                    show++;
                return fail_at(lx, p, "Invalid Unicode escape sequence: \"%.*s\".", (int)show, p);
            }
            o += utf8_put(o, cp);
            p += used;
        } else {
            return fail_at(lx, p, "Invalid character escape sequence: \"\\%c\".", e);
        }
    }
    return fail_at(lx, p, "Unterminated string.");
}

/*
 * """block string""" (spec BlockStringValue): common indentation removed from
 * every line but the first, leading and trailing blank lines dropped.
 */
static ag_status_t
lex_block_string(ag_graphql__lexer_t *lx)
{
    const char *p = lx->p + 3, *end = lx->end;
    const char *raw = p;
    char       *buf, *o;

    /* find the end, tracking lines for locations */
    while (p < end) {
        if (end - p >= 3 && memcmp(p, "\"\"\"", 3) == 0)
            break;
        if (end - p >= 4 && memcmp(p, "\\\"\"\"", 4) == 0) {
            p += 4;
        } else if (*p == '\n') {
            newline(lx, ++p);
        } else if (*p == '\r') {
            p++;
            if (p < end && *p == '\n')
                p++;
            newline(lx, p);
        } else {
            if ((unsigned char)*p < 0x20 && *p != '\t')
                return fail_at(lx, p, "Invalid character within String: U+%04X.",
                               (unsigned char)*p);
            p++;
        }
    }
    if (p >= end)
        return fail_at(lx, p, "Unterminated string.");
    size_t rawlen = (size_t)(p - raw);
    lx->p = p + 3;

    /* raw value with \""" unescaped and line terminators normalized to \n */
    if ((buf = ag_arena_alloc(lx->arena, rawlen + 1)) == NULL)
        return AG_ENOMEM;
    o = buf;
    for (const char *q = raw; q < raw + rawlen;) {
        if (raw + rawlen - q >= 4 && memcmp(q, "\\\"\"\"", 4) == 0) {
            memcpy(o, "\"\"\"", 3);
            o += 3;
            q += 4;
        } else if (*q == '\r') {
            *o++ = '\n';
            q += (q + 1 < raw + rawlen && q[1] == '\n') ? 2 : 1;
        } else {
            *o++ = *q++;
        }
    }
    *o = '\0';
    size_t n = (size_t)(o - buf);

    /* common indentation of lines after the first that hold something */
    size_t common = SIZE_MAX;
    bool   first = true;
    for (size_t i = 0; i <= n;) {
        size_t j = i, ind = 0;
        while (j < n && buf[j] != '\n')
            j++;
        while (i + ind < j && (buf[i + ind] == ' ' || buf[i + ind] == '\t'))
            ind++;
        if (!first && ind < j - i && ind < common)
            common = ind;
        first = false;
        i = j + 1;
    }
    /* rebuild: strip indentation, then drop blank leading/trailing lines */
    char  *res = ag_arena_alloc(lx->arena, n + 1);
    size_t rn = 0, last_content_end = 0;
    bool   seen_content = false;
    if (res == NULL)
        return AG_ENOMEM;
    first = true;
    for (size_t i = 0; i <= n;) {
        size_t j = i;
        while (j < n && buf[j] != '\n')
            j++;
        size_t s = i;
        if (!first && common != SIZE_MAX)
            s = (j - i > common) ? i + common : j;
        bool blank = true;
        for (size_t k = i; k < j; k++)
            if (buf[k] != ' ' && buf[k] != '\t')
                blank = false;
        if (seen_content || !blank) {
            if (seen_content)
                res[rn++] = '\n';
            memcpy(res + rn, buf + s, j - s);
            rn += j - s;
            if (!blank)
                last_content_end = rn;
            seen_content = true;
        }
        first = false;
        i = j + 1;
    }
    rn = last_content_end;
    res[rn] = '\0';
    lx->tok.kind = TK_BLOCK_STRING;
    lx->tok.value = res;
    lx->tok.value_len = rn;
    return AG_OK;
}

/* IntValue / FloatValue at lx->p. */
static ag_status_t
lex_number(ag_graphql__lexer_t *lx)
{
    const char *p = lx->p, *end = lx->end;
    char        cbuf[16];
    bool        is_float = false;

    if (*p == '-')
        p++;
    if (p < end && *p == '0') {
        p++;
        if (p < end && is_digit(*p))
            return fail_at(lx, p, "Invalid number, unexpected digit after 0: %s.",
                           char_desc(cbuf, sizeof(cbuf), p, end));
    } else {
        if (p >= end || !is_digit(*p))
            return fail_at(lx, p, "Invalid number, expected digit but got: %s.",
                           char_desc(cbuf, sizeof(cbuf), p, end));
        while (p < end && is_digit(*p))
            p++;
    }
    if (p < end && *p == '.') {
        is_float = true;
        p++;
        if (p >= end || !is_digit(*p))
            return fail_at(lx, p, "Invalid number, expected digit but got: %s.",
                           char_desc(cbuf, sizeof(cbuf), p, end));
        while (p < end && is_digit(*p))
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        is_float = true;
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p >= end || !is_digit(*p))
            return fail_at(lx, p, "Invalid number, expected digit but got: %s.",
                           char_desc(cbuf, sizeof(cbuf), p, end));
        while (p < end && is_digit(*p))
            p++;
    }
    if (p < end && (*p == '.' || is_name_start(*p)))
        return fail_at(lx, p, "Invalid number, expected digit but got: %s.",
                       char_desc(cbuf, sizeof(cbuf), p, end));
    lx->tok.kind = is_float ? TK_FLOAT : TK_INT;
    lx->tok.value = ag_arena_strndup(lx->arena, lx->p, (size_t)(p - lx->p));
    lx->tok.value_len = (size_t)(p - lx->p);
    lx->p = p;
    return lx->tok.value ? AG_OK : AG_ENOMEM;
}

/*
 * Advance to the next token. AG_OK, AG_EBADREQ with lx->err set, or
 * AG_ENOMEM. After <EOF> it keeps returning <EOF>.
 */
ag_status_t
ag_graphql__lex_next(ag_graphql__lexer_t *lx)
{
    ag_status_t st = AG_OK;
    char        cbuf[16];

    skip_ignored(lx);
    lx->tok.start = lx->p;
    lx->tok.value = NULL;
    lx->tok.value_len = 0;
    lx->tok.loc.line = lx->line;
    lx->tok.loc.col = col_at(lx, lx->p);
    if (lx->p >= lx->end) {
        lx->tok.kind = TK_EOF;
        lx->tok.len = 0;
        return AG_OK;
    }
    char c = *lx->p;
    switch (c) {
    case '!':
        lx->tok.kind = TK_BANG;
        break;
    case '$':
        lx->tok.kind = TK_DOLLAR;
        break;
    case '&':
        lx->tok.kind = TK_AMP;
        break;
    case '(':
        lx->tok.kind = TK_PAREN_L;
        break;
    case ')':
        lx->tok.kind = TK_PAREN_R;
        break;
    case ':':
        lx->tok.kind = TK_COLON;
        break;
    case '=':
        lx->tok.kind = TK_EQUALS;
        break;
    case '@':
        lx->tok.kind = TK_AT;
        break;
    case '[':
        lx->tok.kind = TK_BRACKET_L;
        break;
    case ']':
        lx->tok.kind = TK_BRACKET_R;
        break;
    case '{':
        lx->tok.kind = TK_BRACE_L;
        break;
    case '|':
        lx->tok.kind = TK_PIPE;
        break;
    case '}':
        lx->tok.kind = TK_BRACE_R;
        break;
    case '.':
        if (lx->end - lx->p >= 3 && lx->p[1] == '.' && lx->p[2] == '.') {
            lx->tok.kind = TK_SPREAD;
            lx->tok.len = 3;
            lx->p += 3;
            return AG_OK;
        }
        return fail_at(lx, lx->p, "Unexpected character: \".\".");
    case '"':
        if (lx->end - lx->p >= 3 && lx->p[1] == '"' && lx->p[2] == '"')
            st = lex_block_string(lx);
        else
            st = lex_string(lx);
        lx->tok.len = (size_t)(lx->p - lx->tok.start);
        return st;
    default:
        if (is_name_start(c)) {
            const char *p = lx->p;
            while (p < lx->end && is_name_char(*p))
                p++;
            lx->tok.kind = TK_NAME;
            lx->tok.len = (size_t)(p - lx->p);
            lx->tok.value = ag_arena_strndup(lx->arena, lx->p, lx->tok.len);
            lx->tok.value_len = lx->tok.len;
            lx->p = p;
            return lx->tok.value ? AG_OK : AG_ENOMEM;
        }
        if (c == '-' || is_digit(c)) {
            st = lex_number(lx);
            lx->tok.len = (size_t)(lx->p - lx->tok.start);
            return st;
        }
        return fail_at(lx, lx->p, "Unexpected character: %s.",
                       char_desc(cbuf, sizeof(cbuf), lx->p, lx->end));
    }
    lx->tok.len = 1;
    lx->p++;
    return AG_OK;
}
