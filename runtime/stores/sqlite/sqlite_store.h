// The embedded SQLite store's on-disk format, shared by the writer (sqlite_store.cc,
// reached through open_sqlite_store in store.h) and the reader (store_reader.h).
//
// Tables and column order are Weave's SQLite trace server's (docs/STORE_FORMAT.md#tables-at-a-glance):
//
//   calls(project_id, id PRIMARY KEY, trace_id, parent_id, thread_id, turn_id, op_name,
//         started_at, ended_at, exception, attributes, inputs, input_refs, output,
//         output_refs, summary, wb_user_id, wb_run_id, wb_run_step, wb_run_step_end,
//         deleted_at, display_name, otel_dump)
//   objects(project_id, object_id, wb_user_id, created_at, kind, base_object_class,
//           leaf_object_class, refs, val_dump, digest, version_index, is_latest, deleted_at,
//           PRIMARY KEY (project_id, kind, object_id, digest))
//   tables(project_id, digest UNIQUE, row_digests)
//   table_rows(project_id, digest UNIQUE, val)
//   files(project_id, digest, val BLOB, PRIMARY KEY (project_id, digest))
//
// plus weft's own weft_meta(key PRIMARY KEY, value), holding schema_version.
//
// Column values: times are ISO-8601 UTC text with microseconds and 'Z'; JSON columns hold
// JSON text; input_refs, output_refs, refs and row_digests are JSON lists of strings printed
// as Python's json.dumps prints them (`["a", "b"]`); version_index and is_latest are
// integers; exception is the exception JSON string or NULL; files.val is a BLOB.
//
// Write semantics (one transaction per batch, a SAVEPOINT per multi-statement request):
//   obj_create    (project, kind, name, digest) already present: no-op. Otherwise the new
//                 row gets version_index = max existing + 1 (0 for a new name) and
//                 is_latest = 1, and the name's other versions get is_latest = 0.
//   table_create  tables and table_rows rows inserted unless their digest is present.
//   file_create   inserted unless (project, digest) is present.
//   call_start    UPSERT on id setting only the start half's columns;
//   call_end      UPSERT on id setting only the end half's columns, so either may come
//                 first and the row ends up complete. call_end's started_at fills the
//                 column only while call_start has not (0 means unknown: left NULL).
//
// Validation (a failing request gets an error Status; the rest of its batch commits):
//   every request: project_id non-empty;
//   obj_create:    object_id and digest non-empty, kind "object" or "op";
//   table_create:  digest non-empty, one row digest per row;
//   file_create:   digest non-empty, bytes present (may be empty);
//   call_start:    id, trace_id and op_name non-empty;
//   call_end:      id non-empty.
// JSON text is not re-validated here: it was produced by weft's own writer.
//
// The store caches, per (project, kind, name), the next version index and the digests
// seen, so obj_create needs no SELECT on the hot path. The cache is filled lazily from the
// file and dropped whenever another connection has written to the file since our last
// batch (PRAGMA data_version) or one of our transactions fails.
#pragma once

namespace weft {

// weft_meta.schema_version written by this build; the reader accepts files at or below it
// (and Weave's own files, which have no weft_meta).
inline constexpr int kSqliteSchemaVersion = 1;

}  // namespace weft
