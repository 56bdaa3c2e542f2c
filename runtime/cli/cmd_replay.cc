// weft replay: writes the requests of dead-letter files into a SQLite store.
#include <array>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <weft/store.h>

#include "runtime/cli/commands.h"
#include "runtime/cli/options.h"
#include "runtime/core/dead_letter.h"
#include "runtime/stores/request_body.h"

namespace weft::cli {
namespace {

constexpr const char* kName = "replay";
constexpr const char* kUsage =
    "usage: weft replay FILE... [--store PATH] [--project ENTITY/PROJECT]\n"
    "       weft replay --outbox PATH [--remote URL] [--timeout SECONDS]\n"
    "\n"
    "Writes the requests of dead-letter files (the JSON lines weft keeps for requests its\n"
    "store could not take) into a SQLite store, in file order, 1000 to a transaction.\n"
    "Replaying twice is harmless: calls are upserted, and objects, tables and files are\n"
    "kept once per digest. Give rotated files oldest first: weft replay dl.2 dl.1 dl\n"
    "\n"
    "  --store PATH      SQLite store file, created if missing (default: weft.db)\n"
    "  --project E/P     only this project's requests; the others are skipped\n"
    "  --outbox PATH     instead: deliver what a remote store left in its outbox to a Weave\n"
    "                    trace server (--remote URL, else $WF_TRACE_SERVER_URL, else\n"
    "                    https://trace.wandb.ai; key from $WANDB_API_KEY or ~/.netrc), retrying\n"
    "                    for --timeout seconds (default 120); what the server refuses goes to\n"
    "                    weft-remote.dead-letter.jsonl, what it never acknowledged stays\n"
    "  --help            this text\n"
    "\n"
    "Prints 'replayed 57 requests: obj_create 3, call_start 27, call_end 27; 0 failed',\n"
    "then one line per distinct failure with its count. Exit status 1 if a request failed\n"
    "or a line could not be read; 2 if a file or the store cannot be opened.\n";

constexpr size_t kBatchSize = 1000;
constexpr size_t kMaxReasonLines = 20;

// "call_start c1: trace_id is empty" -> "trace_id is empty": the store puts the request's
// label in front of each failure, which would make every failure a reason of its own.
std::string without_label(const std::string& message, std::string_view kind) {
  if (message.size() <= kind.size() || message.compare(0, kind.size(), kind) != 0 ||
      message[kind.size()] != ' ')
    return message;
  const size_t colon = message.find(": ", kind.size());
  return colon == std::string::npos ? message : message.substr(colon + 2);
}

struct Tally {
  std::array<uint64_t, kRequestKindCount> replayed{};
  uint64_t failed = 0;
  uint64_t skipped = 0;
  std::map<std::string, uint64_t> reasons;  // "call_start: invalid argument: ..." -> count
  uint64_t bad_lines = 0;
  std::string first_bad_line;

  uint64_t total_replayed() const {
    uint64_t n = 0;
    for (uint64_t k : replayed) n += k;
    return n;
  }
};

void write_batch(Store& store, std::vector<StoreRequest>& batch, Tally& tally) {
  if (batch.empty()) return;
  std::vector<Status> results;
  store.write_batch(batch, results);
  for (size_t i = 0; i < batch.size(); ++i) {
    if (results[i]) {
      ++tally.replayed[batch[i].index()];
      continue;
    }
    ++tally.failed;
    const std::string kind = request_kind_name(batch[i]);
    ++tally.reasons[kind + ": " + status_code_name(results[i].code()) + ": " +
                    without_label(results[i].message(), kind)];
  }
  batch.clear();
}

std::string summary(const Tally& t, bool filtered) {
  std::string s = "replayed " + std::to_string(t.total_replayed()) + " requests";
  bool first = true;
  for (size_t k = 0; k < kRequestKindCount; ++k) {
    if (t.replayed[k] == 0) continue;
    s += first ? ": " : ", ";
    first = false;
    s += std::string(request_kind_name_at(k)) + " " + std::to_string(t.replayed[k]);
  }
  s += "; " + std::to_string(t.failed + t.bad_lines) + " failed";
  if (filtered) s += "; " + std::to_string(t.skipped) + " skipped (other projects)";
  s += "\n";
  size_t lines = 0;
  for (const auto& [reason, count] : t.reasons) {
    if (lines++ == kMaxReasonLines) {
      s += "  ... and " + std::to_string(t.reasons.size() - kMaxReasonLines) + " more reasons\n";
      break;
    }
    s += "  " + std::to_string(count) + " x " + reason + "\n";
  }
  if (t.bad_lines > 0)
    s += "  " + std::to_string(t.bad_lines) + " x unreadable line (first: " + t.first_bad_line +
         ")\n";
  return s;
}

const std::string& project_of(const StoreRequest& r) {
  return std::visit([](const auto& req) -> const std::string& { return req.project_id; }, r);
}

}  // namespace

int replay_outbox(const std::string& outbox, const std::string& url, const std::string& dead_letter_path,
                  std::chrono::seconds timeout);  // cmd_replay_outbox.cc

int cmd_replay(int argc, char** argv) {
  std::string store_path = "weft.db", project, outbox, remote, timeout_s = "120";
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return finish_stdout(kName);
    }
    int r = flag_value(i, argc, argv, "store", store_path);
    if (r == 0) r = flag_value(i, argc, argv, "project", project);
    if (r == 0) r = flag_value(i, argc, argv, "outbox", outbox);
    if (r == 0) r = flag_value(i, argc, argv, "remote", remote);
    if (r == 0) r = flag_value(i, argc, argv, "timeout", timeout_s);
    if (r < 0) return fail(kName, std::string(a) + " needs a value");
    if (r > 0) continue;
    if (a.substr(0, 2) == "--")
      return fail(kName, "unknown argument '" + std::string(a) + "' (see 'weft replay --help')");
    files.emplace_back(a);
  }
  if (!outbox.empty()) {
    if (!files.empty()) return fail(kName, "give either dead-letter FILEs or --outbox, not both");
    long long timeout = 0;
    if (!parse_int(timeout_s, 0, 86400, timeout))
      return fail(kName, "--timeout must be a number of seconds from 0 to 86400 (got '" + timeout_s + "')");
    return replay_outbox(outbox, remote, "weft-remote.dead-letter.jsonl", std::chrono::seconds(timeout));
  }
  if (!remote.empty()) return fail(kName, "--remote goes with --outbox (see 'weft replay --help')");
  if (files.empty()) return fail(kName, "missing FILE (see 'weft replay --help')");

  // Every file opens before anything is written: a typo does not leave half a replay.
  std::vector<DeadLetterReader> readers;
  for (const std::string& f : files) {
    Result<DeadLetterReader> reader = DeadLetterReader::open(f);
    if (!reader) return fail(kName, reader.error());
    readers.push_back(std::move(reader).value());
  }
  Result<std::unique_ptr<Store>> store = open_sqlite_store(store_path);
  if (!store) return fail(kName, store.error());

  Tally tally;
  std::vector<StoreRequest> batch;
  batch.reserve(kBatchSize);
  for (size_t f = 0; f < readers.size(); ++f) {
    while (true) {
      Result<std::optional<DeadLetterEntry>> entry = readers[f].next();
      if (!entry) {
        if (tally.bad_lines++ == 0) tally.first_bad_line = files[f] + ": " + entry.error();
        // A line that does not parse is skipped; a read error ends this file.
        if (entry.code() != StatusCode::kInvalidArgument) break;
        continue;
      }
      if (!*entry) break;
      StoreRequest& request = (*entry)->request;
      if (!project.empty() && project_of(request) != project) {
        ++tally.skipped;
        continue;
      }
      batch.push_back(std::move(request));
      if (batch.size() == kBatchSize) write_batch(**store, batch, tally);
    }
  }
  write_batch(**store, batch, tally);

  write_stdout(summary(tally, !project.empty()));
  const int rc = finish_stdout(kName);
  if (rc != kExitOk) return rc;
  return tally.failed + tally.bad_lines == 0 ? kExitOk : kExitFailure;
}

}  // namespace weft::cli
