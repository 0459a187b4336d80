/*
 * Internals of the data model shared by its files: the field tables that
 * describe every known object in both spellings (Glue's PascalCase and the
 * snapshot's camelCase), the in-place converter that validates a parsed
 * tree and renames its keys to the Glue spelling, and the output sink that
 * the JSON printers write into (a bounded ms_buf or a SHA-256 context).
 * Nothing here is part of the public API.
 */
#ifndef MS_MODEL_INTERNAL_H
#define MS_MODEL_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "metasync/model.h"
#include "util/buf.h"

/* cJSON's type tests, inlined: the library's are calls through the PLT. */
#define MS_JTYPE(v) ((v) ? (v)->type & 0xFF : cJSON_Invalid)
#define ms_j_obj(v) (MS_JTYPE(v) == cJSON_Object)
#define ms_j_arr(v) (MS_JTYPE(v) == cJSON_Array)
#define ms_j_str(v) (MS_JTYPE(v) == cJSON_String)
#define ms_j_num(v) (MS_JTYPE(v) == cJSON_Number)
#define ms_j_null(v) (MS_JTYPE(v) == cJSON_NULL)
#define ms_j_bool(v) (MS_JTYPE(v) == cJSON_True || MS_JTYPE(v) == cJSON_False)

/*
 * Output sink.  Printers append through ms_sink_put / ms_sink_putc into a
 * small staging buffer that is flushed to `out` or fed to `md`.  Errors are
 * sticky: after the first one the sink drops everything and `error` keeps
 * the code.
 */
#define MS_SINK_SIZE 4096

typedef struct ms_sink {
	size_t len;
	ms_buf *out;        /* borrowed; or NULL */
	EVP_MD_CTX *md;     /* borrowed; or NULL */
	int error;          /* 0 or the first MS_E* code */
	const char *dupkey; /* borrowed; the key found twice (MS_EINVAL) */
	char buf[MS_SINK_SIZE];
} ms_sink;

void ms_sink_init_buf(ms_sink *s, ms_buf *out);
void ms_sink_init_md(ms_sink *s, EVP_MD_CTX *md);
/* Flush the staging buffer; returns s->error. */
int ms_sink_flush(ms_sink *s);
void ms_sink_put_slow(ms_sink *s, const char *p, size_t n);

static inline void ms_sink_put(ms_sink *s, const char *p, size_t n)
{
	if (n <= MS_SINK_SIZE - s->len) {
		memcpy(s->buf + s->len, p, n);
		s->len += n;
		return;
	}
	ms_sink_put_slow(s, p, n);
}

static inline void ms_sink_putc(ms_sink *s, char c)
{
	if (s->len == MS_SINK_SIZE)
		ms_sink_flush(s);
	s->buf[s->len++] = c;
}

#define ms_sink_lit(s, lit) ms_sink_put((s), (lit), sizeof(lit) - 1)

/* A JSON string literal of str (quoted, minimal escapes). */
void ms_sink_str(ms_sink *s, const char *str);
/* A JSON number: integers below 2^53 without exponent, others shortest. */
void ms_sink_num(ms_sink *s, double x);
void ms_sink_int(ms_sink *s, long long v);
/* Any value, compact, members in document order. */
void ms_sink_value(ms_sink *s, const cJSON *v);
/* Any value, each object key written by key (ms_sink_str writes it as is). */
void ms_sink_value_keyed(ms_sink *s, const cJSON *v, void (*key)(ms_sink *s, const char *k));
/*
 * Any value with object keys sorted bytewise.  `writable` applies the
 * content-hash filter (see ms_canonical_json); `pretty` indents by two
 * spaces.  A key found twice in one object sets MS_EINVAL and dupkey.
 */
void ms_sink_sorted(ms_sink *s, const cJSON *v, int writable, int pretty);
/* Order object members by key (bytewise), as ms_sink_sorted prints them. */
void ms_sink_sort_members(const cJSON **m, size_t n);

/* An RFC 4122 version 4 UUID from OpenSSL's generator; MS_ERROR when it fails. */
int ms_model_uuid4(char out[37]);

/* SHA-256 of data, and a new digest context ready for updates. */
int ms_model_sha256(const void *data, size_t len, unsigned char out[MS_HASH_LEN]);
EVP_MD_CTX *ms_model_sha256_begin(void);

/*
 * UTF-8 scan of s[0..len): 0 when valid, -1 when not.  *chars receives the
 * number of code points and *flags the MS_U8_* bits of what occurs (either
 * may be NULL).
 */
#define MS_U8_CTRL 0x01    /* a control character (U+0000..U+001F) but tab, CR, LF */
#define MS_U8_NEWLINE 0x02 /* CR or LF */
#define MS_U8_NONCHAR 0x04 /* U+FFFE or U+FFFF */
int ms_model_utf8_scan(const char *s, size_t len, size_t *chars, unsigned *flags);

/*
 * Timestamps.  ms_model_time_string parses the string forms of a snapshot
 * line (epoch milliseconds, the Hive form, ISO 8601); ms_model_time_iso only
 * ISO 8601 ("2017-04-04T08:58:43.120+00:00", as the AWS CLI prints).  Both
 * return seconds rounded to the millisecond.
 */
int ms_model_time_string(const char *s, double *seconds);

/*
 * Skewed value lists (utility.c).  Glue's encoding of one, as a skewed
 * value-location key holds it: `<len>$<value>` per value, len in UTF-16
 * code units as Java's String.length() counts them (AWS's Glue client for
 * Hive is Java); appended to out.
 */
int ms_model_skew_encode(ms_buf *out, const char *const *values, size_t n);
/*
 * Split an encoded list (sep '$': Glue's; '%': the AWS utility's, len in
 * code points) into at most max values: each (start, length) pair goes
 * into starts/lens (pointing into s, lengths in bytes), or is only counted
 * when starts is NULL (max then unused); *n receives the count.  MS_EINVAL
 * when s is not such an encoding.
 */
int ms_model_skew_split(const char *s, char sep, const char **starts, size_t *lens, size_t max,
			size_t *n);
/*
 * The AWS utility's skewed value-location map keys ("1%a") in Glue's form
 * ("1$a"), in place, in a line's SkewedColumnValueLocationMaps; other keys
 * are kept.  0 or MS_ENOMEM.
 */
int ms_model_skew_keys(cJSON *map);
/* Is type a Hive column type ("int", "decimal(10,2)", "array<string>"; any case)? */
int ms_model_hive_type(const char *type);
int ms_model_time_iso(const char *s, double *seconds);
double ms_model_time_round(double seconds);

/*
 * Field tables.  Each known object of the model is an ms_schema: a list of
 * fields with both spellings, a type, flags and Glue's constraints on the
 * value (the shapes of Glue's service model: NameString, URI, ...).
 */
typedef enum ms_ftype {
	MS_F_STR = 1, /* string: `min`..`max` characters (max 0: no limit), `text` */
	MS_F_INT,     /* integral number in `min`..`max` */
	MS_F_BOOL,
	MS_F_TIME,    /* epoch seconds in the doc; see ms_time_parse */
	MS_F_PARAMS,  /* map string -> string with Glue's parameter limits */
	MS_F_MAP,     /* map string -> string, no limits */
	MS_F_STRLIST, /* array of strings, each as MS_F_STR says */
	MS_F_OBJ,     /* object described by `sub` */
	MS_F_OBJLIST, /* array of objects described by `sub` */
	MS_F_GOBJ,    /* Glue-only object: keys change case recursively; `sub`,
			     when set, checks the members it knows */
	MS_F_GARR     /* Glue-only array of such objects */
} ms_ftype;

/*
 * Which characters a string may hold: Glue's two patterns, both of which
 * refuse U+FFFE, U+FFFF and the control characters below U+0020 except
 * those named (its single-line pattern takes tab, its text pattern tab,
 * CR and LF).
 */
#define MS_TX_ANY 0  /* any (valid UTF-8) */
#define MS_TX_LINE 1 /* [\u0020-\uD7FF\uE000-\uFFFD\uD800\uDC00-\uDBFF\uDFFF\t]* */
#define MS_TX_TEXT 2 /* the same plus \r and \n */

#define MS_FF_REQUIRED 0x01
#define MS_FF_FOLD 0x02    /* fold to lowercase (database, table names) */
#define MS_FF_ENTNAME 0x04 /* the entity's own name: "table name '...'" */
#define MS_FF_OUTPUT 0x08  /* only in Glue's output shape, not in its *Input */

struct ms_schema;

typedef struct ms_field {
	const char *glue;
	const char *line;
	struct ms_schema *sub;
	unsigned char flags;
	unsigned char type;
	unsigned char text; /* MS_TX_*: strings, string lists */
	int64_t min;        /* strings: least characters; integers: least value */
	int64_t max;        /* strings: most characters (0: no limit); integers */
} ms_field;

#define MS_SCHEMA_SLOTS 128

typedef struct ms_schema {
	const char *shape;        /* Glue's name of the object: "Column", ... */
	const char *name_subject; /* "table name": MS_FF_ENTNAME messages */
	const ms_field *fields;
	unsigned nfields;                        /* at most 63 */
	uint64_t required;                       /* bit i: fields[i] is required */
	unsigned char slot[MS_SCHEMA_SLOTS];     /* 0 or 1 + 2*index + (line spelling) */
	unsigned char slot_len[MS_SCHEMA_SLOTS]; /* strlen of that spelling */
} ms_schema;

extern ms_schema ms_schema_database;
extern ms_schema ms_schema_table;
extern ms_schema ms_schema_partition;
extern ms_schema ms_schema_sd;

/* Build the lookup tables once (thread-safe). */
void ms_model_init(void);
/*
 * The field named key (either spelling) in s, or NULL; *line_spelling is
 * set when key is the snapshot spelling.
 */
const ms_field *ms_schema_find(const ms_schema *s, const char *key, int *line_spelling);
/* The same for a key of len bytes that need not be NUL-terminated. */
const ms_field *ms_schema_find_n(const ms_schema *s, const char *key, size_t len,
				 int *line_spelling);
int ms_schema_index(const ms_schema *s, const ms_field *f);
const ms_schema *ms_schema_for(ms_kind kind);

/* A path into the document, kept on the C stack, for messages only. */
typedef struct ms_path {
	const struct ms_path *up;
	const char *key; /* NULL: an array index */
	int index;
} ms_path;

typedef struct ms_conv {
	int from_line; /* input spelled as a snapshot item */
	ms_error *err;
} ms_conv;

/*
 * Validate obj against s and convert it in place to the Glue shape: known
 * keys take their Glue spelling, timestamps become numbers, null members
 * go, names marked MS_FF_FOLD are folded to lowercase.  Unknown keys stay
 * as they are.  MS_EINVAL names the field.
 */
int ms_model_convert(ms_conv *c, cJSON *obj, const ms_schema *s, const ms_path *p);
/* Validate and fold a name given as a C string (an envelope or argument). */
int ms_model_check_name(ms_conv *c, const char *name, const char *subject);
/* Render p as 'a.b[2].c' into out. */
void ms_path_render(const ms_path *p, char *out, size_t n);

/*
 * Finish an entity from a converted document (steals doc, also on
 * failure): identity from the document, falling back to database / table,
 * the document completed to agree with it, the hash computed.
 */
int ms_model_entity_make(ms_entity **out, ms_kind kind, cJSON *doc, const char *database,
			 const char *table, ms_conv *c);

/*
 * The streaming snapshot-line transcoder: append to s the members of the
 * canonical Glue JSON object text[0..len) in the snapshot spelling, exactly
 * as line_object in codec_line.c prints the parsed tree (skip_identity and
 * first likewise).  Returns 0, or MS_RAW_BAIL when the text holds anything
 * the transcoder does not handle (non-minimal escapes, control bytes,
 * malformed JSON, deep nesting): the caller discards the output and parses
 * the text instead.
 */
#define MS_RAW_BAIL 1
int ms_model_line_raw(ms_sink *s, const char *text, size_t len, const ms_schema *sch,
		      int skip_identity, int first);

/* Fold ASCII letters to lowercase in place. */
void ms_model_fold(char *s);
/* First member of obj whose key is exactly key, or NULL. */
cJSON *ms_model_get(const cJSON *obj, const char *key);
/* Point item's key at a static string without copying it. */
void ms_model_set_static_key(cJSON *item, const char *key);
/* The vkey of a validated Values array (new string), or NULL on ENOMEM. */
char *ms_model_vkey(const cJSON *values);

#endif
