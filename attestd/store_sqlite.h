/* The sqlite3 backend of store.h (WAL mode, group commit). */
#ifndef ATTEST_STORE_SQLITE_H
#define ATTEST_STORE_SQLITE_H

#include "store.h"

err_t store_sqlite_open(const char *path, struct store **out) WARN_UNUSED;

#endif
