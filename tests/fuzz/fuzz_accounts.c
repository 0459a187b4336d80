/*
 * Fuzz target: the accounts file of `metasync serve`.  Besides not
 * crashing, every error must stay one line and name the file first; a file
 * that parses must answer lookups and decisions for every account, key and
 * grant it holds (no secret in a message is the unit tests' to show).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/accounts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ms_accounts *a = NULL;
	ms_error err;
	size_t i, j;

	ms_error_clear(&err);
	if (ms_accounts_parse("fuzz.yaml", (const char *)data, size, &a, &err) == 0) {
		for (i = 0; i < a->naccounts; i++) {
			const char *account = NULL, *secret = NULL;

			for (j = 0; j < a->accounts[i].nkeys; j++)
				if (ms_accounts_find_key(a, a->accounts[i].keys[j].id, &account,
							 &secret, NULL) != 0 ||
				    strcmp(account, a->accounts[i].id) != 0 || !secret || !*secret)
					abort();
			if (!ms_accounts_may(a, a->accounts[i].id, a->accounts[i].id, "db",
					     MS_ACCESS_WRITE) ||
			    !ms_accounts_may_list(a, a->accounts[i].id, a->accounts[i].id))
				abort();
		}
		for (i = 0; i < a->ngrants; i++) {
			const ms_grant *g = &a->grants[i];

			if (!ms_accounts_may_list(a, g->to, g->catalog) ||
			    ms_accounts_may(a, g->to, g->catalog, NULL, MS_ACCESS_READ))
				abort();
			for (j = 0; j < g->ndatabases; j++)
				if (!strchr(g->databases[j], '*') &&
				    !strchr(g->databases[j], '?') &&
				    !strchr(g->databases[j], '[') &&
				    !strchr(g->databases[j], '\\') &&
				    !ms_accounts_may(a, g->to, g->catalog, g->databases[j],
						     MS_ACCESS_READ))
					abort();
		}
		ms_accounts_free(a);
		return 0;
	}
	if (strchr(err.message, '\n') ||
	    (err.code == MS_EINVAL && strncmp(err.message, "fuzz.yaml:", 10) != 0))
		abort();
	return 0;
}
