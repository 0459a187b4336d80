/*
 * Open addressing with linear probing and FNV-1a hashing; the table doubles
 * at 50% load.  No deletion: the engine marks entries instead.
 */
#include "strmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "metasync/error.h"

uint64_t ms_fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	while (*s) {
		h ^= (unsigned char)*s++;
		h *= 1099511628211ULL;
	}
	return h;
}

void ms_strmap_init(ms_strmap *m)
{
	m->slots = NULL;
	m->nslots = 0;
	m->count = 0;
}

void ms_strmap_free(ms_strmap *m)
{
	size_t i;

	for (i = 0; i < m->nslots; i++)
		free(m->slots[i].key);
	free(m->slots);
	ms_strmap_init(m);
}

static ms_strmap_entry *probe(ms_strmap_entry *slots, size_t nslots, const char *key)
{
	size_t i = (size_t)ms_fnv1a(key) & (nslots - 1);

	while (slots[i].key && strcmp(slots[i].key, key) != 0)
		i = (i + 1) & (nslots - 1);
	return &slots[i];
}

static int grow(ms_strmap *m)
{
	size_t n = m->nslots ? m->nslots * 2 : 64, i;
	ms_strmap_entry *slots = calloc(n, sizeof(*slots));

	if (!slots)
		return MS_ENOMEM;
	for (i = 0; i < m->nslots; i++)
		if (m->slots[i].key)
			*probe(slots, n, m->slots[i].key) = m->slots[i];
	free(m->slots);
	m->slots = slots;
	m->nslots = n;
	return 0;
}

int ms_strmap_put(ms_strmap *m, const char *key, ms_strmap_entry **entry)
{
	ms_strmap_entry *e;
	int rc;

	if ((m->count + 1) * 2 > m->nslots && (rc = grow(m)) < 0)
		return rc;
	e = probe(m->slots, m->nslots, key);
	if (e->key) {
		*entry = e;
		return 0;
	}
	if (!(e->key = strdup(key)))
		return MS_ENOMEM;
	memset(e->value, 0, sizeof(e->value));
	e->mark = 0;
	e->tag = 0;
	m->count++;
	*entry = e;
	return 1;
}

ms_strmap_entry *ms_strmap_get(const ms_strmap *m, const char *key)
{
	ms_strmap_entry *e;

	if (!m->nslots)
		return NULL;
	e = probe(m->slots, m->nslots, key);
	return e->key ? e : NULL;
}
