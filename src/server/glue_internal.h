/*
 * Inside the Glue-compatible server: one request is a glue_call, handed to
 * the operation's function (glue_db.c, glue_table.c, glue_partition.c).  An
 * operation reads its input with the glue_in_* helpers, which answer
 * SerializationException for a member of the wrong JSON type and
 * InvalidInputException for a value outside Glue's constraints, names the
 * member, and returns -1 after glue_fail has filled the call's error; it
 * answers by filling c->out (a JSON object) or c->text (the body's text,
 * for the large answers built without a tree).
 */
#ifndef MS_SERVER_GLUE_INTERNAL_H
#define MS_SERVER_GLUE_INTERNAL_H

#include <cjson/cJSON.h>

#include "metasync/catalog.h"
#include "server/glue.h"

#define GLUE_ACCOUNT_LEN MS_ACCOUNT_ID_LEN

/* Error types, as Glue names them. */
#define GLUE_E_NOT_FOUND "EntityNotFoundException"
#define GLUE_E_EXISTS "AlreadyExistsException"
#define GLUE_E_INVALID "InvalidInputException"
#define GLUE_E_CONFLICT "ConcurrentModificationException"
#define GLUE_E_DENIED "AccessDeniedException"
#define GLUE_E_INTERNAL "InternalServiceException"
#define GLUE_E_SERIALIZATION "SerializationException"
#define GLUE_E_LIMIT "ResourceNumberLimitExceededException"

typedef struct glue_call {
	ms_glue *server;
	const char *op;     /* "GetTable" */
	const char *caller; /* the signing key's account */
	char region[64];    /* the region the request was signed for */
	cJSON *in;          /* the request body, an object */
	cJSON *out;         /* the answer, an object (or text below) */
	ms_buf *text;       /* the answer's body text, when the op writes it itself */
	int text_used;
	/* the catalog of the request's CatalogId, opened by glue_catalog */
	char catalog_id[GLUE_ACCOUNT_LEN + 1];
	ms_catalog *cat;
	/* the failure */
	const char *etype;
	int status;
	char message[MS_ERROR_MESSAGE_MAX];
	char detail[MS_ERROR_DETAIL_MAX]; /* for the log only */
} glue_call;

typedef int (*glue_op_fn)(glue_call *c);

typedef struct glue_op {
	const char *name;
	glue_op_fn fn;
} glue_op;

/* The operation tables of each file, ended by { NULL, NULL }. */
extern const glue_op glue_database_ops[];
extern const glue_op glue_table_ops[];
extern const glue_op glue_partition_ops[];
/* MetasyncGetChanges (glue_changes.c): the change log, for glue:// followers. */
extern const glue_op glue_change_ops[];
/* SearchTables (glue_search.c). */
int glue_search_tables(glue_call *c);

/* Fail the call with a Glue error type (400, 500 for InternalServiceException); returns -1. */
int glue_fail(glue_call *c, const char *etype, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/*
 * Fail the call for a catalog error: MS_ENOTFOUND as EntityNotFoundException,
 * MS_EEXISTS AlreadyExists, MS_EINVAL InvalidInput, MS_ECONFLICT
 * ConcurrentModification, anything else InternalServiceException (the
 * message then goes to the log, not the client); returns -1.
 */
int glue_fail_err(glue_call *c, int rc, const ms_error *err);
/* 1 with the probability --faults gives (0 without it): a fault inside an answer. */
int glue_fault(glue_call *c);

/*
 * Input members.  Each returns 0 with *out set (NULL when absent and not
 * required) or -1 with the call failed.  Strings are Glue's single-line
 * strings of min..max characters.
 */
int glue_in_string(glue_call *c, const cJSON *obj, const char *name, int required, size_t min,
		   size_t max, const char **out);
/* A name (NameString, 1 to 255 characters), folded to lowercase into buf. */
int glue_in_name(glue_call *c, const cJSON *obj, const char *name, int required, char *buf,
		 size_t n);
int glue_in_bool(glue_call *c, const cJSON *obj, const char *name, int *out);
/* An integer in min..max; *out keeps its value when absent. */
int glue_in_int(glue_call *c, const cJSON *obj, const char *name, long long min, long long max,
		long long *out);
/* An object (required or not). */
int glue_in_object(glue_call *c, const cJSON *obj, const char *name, int required,
		   const cJSON **out);
/* An array of min..max elements (required or not). */
int glue_in_array(glue_call *c, const cJSON *obj, const char *name, int required, size_t min,
		  size_t max, const cJSON **out);
/* A list of strings (each at most max characters, at least one); vkey new on success. */
int glue_in_values(glue_call *c, const cJSON *obj, const char *name, char **vkey);

/*
 * Open the catalog the request's CatalogId names (the caller's own when
 * absent) for database (NULL: the catalog as a whole, to list) with access,
 * checking grants: AccessDeniedException when the caller may not.  The
 * catalog stays open until the call ends (c->cat).
 */
int glue_catalog(glue_call *c, const char *database, ms_access access);
/* 1 when the caller may read database in the call's catalog (for listings). */
int glue_may_read(glue_call *c, const char *database);

/* The database must exist: 0, or -1 with EntityNotFoundException. */
int glue_need_database(glue_call *c, const char *db);

/* The table is missing: EntityNotFoundException for its database, else for it; -1. */
int glue_table_missing(glue_call *c, const char *db, const char *name);

/*
 * Pagination: a NextToken that never repeats within a listing, from the
 * last key returned, and back.  glue_token_parse gives a new string or NULL
 * (no token), or fails the call for a token this server did not write.
 */
int glue_token_make(glue_call *c, cJSON *out, const char *kind, const char *last);
/* The token text itself (new), NULL when out of memory. */
char *glue_token_encode(const char *kind, const char *last);
int glue_token_parse(glue_call *c, const char *kind, char **after);

/* Add e's Glue output shape to arr (or as member name of obj when name is set). */
int glue_add_entity(glue_call *c, cJSON *obj, const char *name, const ms_entity *e);

/* Run fn(c) in a catalog transaction (begin, commit; rollback on failure). */
int glue_in_txn(glue_call *c, int (*fn)(glue_call *c, void *ctx), void *ctx);

/* A batch item error: {"ErrorCode","ErrorMessage"} under "ErrorDetail" of item. */
int glue_item_error(cJSON *item, const char *etype, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The Glue error type and message for a catalog error (for batch items). */
const char *glue_error_type(int rc);

#endif
