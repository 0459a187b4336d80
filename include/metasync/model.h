/*
 * The metasync data model: databases, tables (views are tables with
 * TableType VIRTUAL_VIEW) and partitions, field for field as the AWS Glue Data
 * Catalog API shapes them.  An entity's document is a cJSON tree in Glue's
 * output shape (`Database`, `Table`, `Partition`: PascalCase names,
 * timestamps as epoch seconds).  Fields the model does not know are kept
 * verbatim and written back out.
 *
 * Two codecs sit on top: the Glue API JSON shape, and the snapshot line shape
 * of the AWS Glue "Hive metastore migration" utility (camelCase, timestamps
 * as epoch-millisecond strings).
 */
#ifndef METASYNC_MODEL_H
#define METASYNC_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "metasync/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ms_kind { MS_KIND_DATABASE = 1, MS_KIND_TABLE = 2, MS_KIND_PARTITION = 3 } ms_kind;

#define MS_HASH_LEN 32

/* Glue's limits, enforced on every entity metasync reads. */
#define MS_NAME_MAX 255       /* database, table, column names */
#define MS_CATALOG_ID_MAX 255 /* a catalog-id, as Glue's CatalogId */
#define MS_DESCRIPTION_MAX 2048
#define MS_VALUE_MAX 1024 /* one partition value */
#define MS_PARAM_KEY_MAX 255
#define MS_PARAM_VALUE_MAX 512000
#define MS_COLUMN_TYPE_MAX 131072
#define MS_COMMENT_MAX 255
#define MS_VIEW_TEXT_MAX 409600
#define MS_LOCATION_MAX 2056 /* a storage location (LocationString) */
#define MS_URI_MAX 1024      /* a database's LocationUri (URI) */
#define MS_FORMAT_MAX 128    /* InputFormat, OutputFormat (FormatString) */
#define MS_TABLE_TYPE_MAX 255

/* Parameter keys starting with this prefix are metasync's own markers. */
#define MS_MARKER_PREFIX "metasync."
#define MS_MARKER_REPLICA_OF "metasync.replica-of"
#define MS_MARKER_SYNCED "metasync.synced"
/* On a replica database: the id of the last snapshot of its source imported whole. */
#define MS_MARKER_SNAPSHOT "metasync.snapshot"
/* the source's instance (ms_catalog_instance), beside replica-of */
#define MS_MARKER_REPLICA_INSTANCE "metasync.replica-instance"

/*
 * One entity.  `database` and `table` are its identity, folded to lowercase;
 * a partition's identity adds `vkey`, the canonical JSON array of its Values
 * (case-sensitive), e.g. `["2024","01"]`.  `doc` is the Glue output shape and
 * always agrees with the identity fields.  `hash` is the content hash (see
 * ms_entity_rehash) and is valid when `hashed` is set.
 *
 * An entity read by a raw scan (MS_SCAN_RAW) may carry its document as text
 * in `raw` with `doc` NULL.  ms_entity_to_line and ms_entity_to_glue write
 * such an entity as they would write the parsed document; the functions
 * that change or hash the document parse it first (ms_entity_parse), and
 * ms_entity_param finds nothing until it is parsed.
 */
typedef struct ms_entity {
	ms_kind kind;
	char *database; /* owned */
	char *table;    /* owned; NULL for databases */
	char *vkey;     /* owned; partitions only */
	cJSON *doc;     /* owned; may be NULL for key-only scans */
	char *raw;      /* owned; the document as canonical Glue JSON
					      text when doc is NULL (filled by drivers on
					      MS_SCAN_RAW scans) */
	size_t raw_len;
	unsigned char hash[MS_HASH_LEN];
	int hashed;
} ms_entity;

/*
 * Build an entity from a Glue-shape document (steals doc, also on failure).
 * For tables the database comes from `DatabaseName` or, when absent, from
 * `database`; for partitions `DatabaseName`/`TableName` likewise fall back to
 * `database`/`table`.  The document is validated (types, required fields,
 * Glue's limits, UTF-8); names are folded to lowercase in the document too;
 * the hash is computed.  MS_EINVAL names the field that is wrong.
 */
int ms_entity_from_glue(ms_entity **out, ms_kind kind, cJSON *doc, const char *database,
			const char *table, ms_error *err);

/*
 * Check a request's DatabaseInput, TableInput or PartitionInput (borrowed,
 * unchanged) as Glue does: every member must be one of that shape's, spelled
 * as Glue spells it (members only Glue's answers carry, such as CreateTime,
 * are not), and every value must meet Glue's constraints, as
 * ms_entity_from_glue checks them.  Structures Glue defines elsewhere
 * (TargetTable, SchemaReference, ViewDefinition, ...) and Parameters pass
 * whole.  0, or MS_EINVAL naming the member: "field 'Foo' is not a member of
 * TableInput", "field 'StorageDescriptor.SortColumns[0].SortOrder' must be
 * 0 or 1".
 */
int ms_glue_input_check(ms_kind kind, const cJSON *input, ms_error *err);

/*
 * ms_glue_input_check, then the entity of the input as ms_entity_from_glue
 * builds it, living in database (and table), in one pass: what a server
 * makes of a request's input.  Steals input, also on failure.
 */
int ms_entity_from_glue_input(ms_entity **out, ms_kind kind, cJSON *input, const char *database,
			      const char *table, ms_error *err);

/*
 * Parse one snapshot line (the utility's JSON Lines shape, without the
 * newline) into a new entity.  `expected` is the kind the file holds, or 0 to
 * take the line's "type".  Accepts every timestamp form the utility writes.
 * MS_EINVAL names the field; the caller adds the file and line.
 */
int ms_entity_from_line(ms_entity **out, const char *line, size_t len, ms_kind expected,
			ms_error *err);

/*
 * The values of a partition line, read without building its tree: for checks
 * that must see every line of a snapshot before anything is imported from
 * it, at a fraction of a parse's cost.  v[i] points into the line (not
 * NUL-terminated), len[i] bytes.
 */
#define MS_LINE_VALUES_MAX 64

typedef struct ms_line_values {
	size_t n;
	const char *v[MS_LINE_VALUES_MAX];
	size_t len[MS_LINE_VALUES_MAX];
} ms_line_values;

/*
 * 1 with *out filled when the line is one JSON object whose one "item" holds
 * one "values" (or "Values") array of at most MS_LINE_VALUES_MAX strings
 * without escapes, and no key it looks at is escaped; 0 when it gives up
 * (anything else, valid or not).  It checks nothing else: the caller parses
 * a line it gives up on with ms_entity_from_line, which stays the authority
 * on what a line means.  On a line that ms_entity_from_line accepts as a
 * partition, a 1 always comes with exactly that partition's Values.
 */
int ms_line_values_peek(const char *line, size_t len, ms_line_values *out);

/* Append e as one snapshot line (no newline) to out (an ms_buf *). */
struct ms_buf;
int ms_entity_to_line(const ms_entity *e, struct ms_buf *out, ms_error *err);

/*
 * Append e's whole Glue-shape document to out (members the model does not
 * know included: for snapshots and internal use); pretty != 0 indents it.
 */
int ms_entity_to_glue(const ms_entity *e, struct ms_buf *out, int pretty, ms_error *err);

/*
 * Append e's document in Glue's output shape (only members of Glue's
 * Database, Table or Partition shapes, at every depth; Parameters maps and
 * Glue's own structures such as TargetTable whole) to out: what a Get
 * answer of the Glue API holds.  pretty != 0 indents it.
 */
int ms_entity_to_glue_output(const ms_entity *e, struct ms_buf *out, int pretty, ms_error *err);

/* The same as a new cJSON tree (the caller deletes it); NULL with err set on failure. */
cJSON *ms_entity_glue_output_tree(const ms_entity *e, ms_error *err);

/*
 * e's document as a request's DatabaseInput, TableInput or PartitionInput
 * (new tree; NULL with err set): the output shape without the members Glue
 * assigns itself (CreateTime, UpdateTime, VersionId, CatalogId,
 * DatabaseName, ...), so that ms_glue_input_check accepts it.
 */
cJSON *ms_entity_glue_input_tree(const ms_entity *e, ms_error *err);

/*
 * The same input, printed (compact) after out's text without a tree, when
 * e's document has a place in the input shape for each of its members (the
 * ones Glue assigns aside): 0; 1 when it does not (nothing appended: build
 * the tree); or an MS_E* code with err set.
 */
int ms_entity_glue_input_print(const ms_entity *e, struct ms_buf *out, ms_error *err);

/*
 * Append the canonical JSON text of doc to out: object keys sorted bytewise,
 * no insignificant space, integers without exponent, strings with minimal
 * escapes.  With `writable` set, fields the target assigns itself
 * (CreateTime, UpdateTime, CreationTime, VersionId, CatalogId, CreatedBy,
 * IsRegisteredWithLakeFormation, DatabaseName, TableName), marker
 * parameters (MS_MARKER_PREFIX) and, at every depth, members that hold
 * nothing (an empty object or array, or an object of such members: catalogs
 * differ in whether they keep them) are left out: that text is what the
 * content hash covers.
 */
int ms_canonical_json(const cJSON *doc, int writable, struct ms_buf *out);

/* Recompute e->hash from e->doc (SHA-256 of the writable canonical JSON). */
int ms_entity_rehash(ms_entity *e, ms_error *err);

/*
 * Parse e->raw into e->doc (no-op when doc is set); raw is freed once parsed.
 * MS_EINVAL when the entity has no document or the text is no JSON object.
 */
int ms_entity_parse(ms_entity *e, ms_error *err);

/* A deep copy (new). */
int ms_entity_dup(ms_entity **out, const ms_entity *e, ms_error *err);
void ms_entity_free(ms_entity *e);

/* Borrowed value of parameter key in doc.Parameters, or NULL (also when doc is NULL). */
const char *ms_entity_param(const ms_entity *e, const char *key);
/* Set (value != NULL) or remove (value == NULL) a parameter; does not rehash. */
int ms_entity_set_param(ms_entity *e, const char *key, const char *value, ms_error *err);

/* Rename: set the entity's database (and table) in identity and document. */
int ms_entity_rename(ms_entity *e, const char *database, const char *table, ms_error *err);

/*
 * Partition values that cannot be a table's, as Glue and Hive refuse them:
 * none at all, or not as many as the table has partition keys.  Every path
 * that writes partitions checks them here.
 *
 * ms_partition_check_count: a partition of database.table named by vkey
 * (for the message) with nvalues values, against a table with nkeys keys.
 * ms_partition_check_values: partition against table (both borrowed; each
 * may carry its document as raw text).  0, or MS_EINVAL naming the
 * partition by its values and saying how many keys the table has.
 */
int ms_partition_check_count(const char *database, const char *table, const char *vkey,
			     size_t nvalues, size_t nkeys, ms_error *err);
int ms_partition_check_values(const ms_entity *table, const ms_entity *partition, ms_error *err);

/* The number of a table's PartitionKeys, or -1 when it has no readable document. */
int ms_table_key_count(const ms_entity *table);

/* Canonical values key of n values (new string), e.g. `["a","b"]`. */
int ms_values_key(char **out, const char *const *values, size_t n, ms_error *err);

/*
 * Timestamps: parse any form the utility writes (epoch milliseconds as string
 * or number, "Apr 04, 2017 08:58:43 AM" in UTC, an object wrapping one of
 * those, or that object's JSON text in a string) into epoch seconds.
 * Returns 1 (*seconds untouched) for an empty object, {} or "{}", which the
 * utility writes for a time it did not have; MS_EINVAL when v is no
 * timestamp.
 */
int ms_time_parse(const cJSON *v, double *seconds);

/*
 * The digest of a set of partitions, independent of their order: the count
 * and the sum modulo 2^256 of their content hashes.  ms_digest_final turns it
 * into the 32-byte partition-set hash recorded in manifests.
 */
typedef struct ms_digest {
	uint64_t count;
	unsigned char sum[MS_HASH_LEN];
} ms_digest;

void ms_digest_init(ms_digest *d);
void ms_digest_add(ms_digest *d, const unsigned char hash[MS_HASH_LEN]);
void ms_digest_final(const ms_digest *d, unsigned char out[MS_HASH_LEN]);

/* Lower-case hex of a hash into out (2*MS_HASH_LEN+1 bytes). */
void ms_hex(const unsigned char *bytes, size_t n, char *out);
int ms_unhex(const char *hex, unsigned char *bytes, size_t n);

/*
 * cJSON keeps strings NUL-terminated, so a NUL byte or a \u0000 escape in
 * JSON text would silently cut a value short, and Glue accepts neither:
 * MS_EINVAL ("<what> holds a NUL byte at byte N") when text holds one.
 */
int ms_json_check_nul(const char *text, size_t len, const char *what, ms_error *err);

/* 1 if s is valid UTF-8 of length len, else 0. */
int ms_utf8_valid(const char *s, size_t len);

/* "database", "table", "partition". */
const char *ms_kind_name(ms_kind kind);

#ifdef __cplusplus
}
#endif
#endif
