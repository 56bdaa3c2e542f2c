// Quickstart: trace two functions, one calling the other, into ./quickstart.db.
//
//   build/examples/quickstart [store path]
//
// Each weft::op call is a Weave call; retrieve's call is a child of answer's because it
// runs inside it. flush() returns once everything is in the store.
#include <weft/weft.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  weft::Config cfg;
  cfg.project = "acme/quickstart";
  cfg.store_path = argc > 1 ? argv[1] : "quickstart.db";
  weft::Runtime rt(cfg);

  auto retrieve = weft::op(rt, "retrieve", {"question"}, [](const std::string& q) {
    return std::vector<std::string>{"weft traces calls", "question: " + q};
  });
  auto answer = weft::op(rt, "answer", {"question", "max_words"},
                         [&](const std::string& q, int max_words) {
                           std::vector<std::string> context = retrieve(q);  // a child call
                           return context.front().substr(0, static_cast<size_t>(max_words) * 8);
                         });

  std::string a = answer("what does weft do?", 3);
  if (!rt.flush(std::chrono::seconds(10))) {
    std::fprintf(stderr, "quickstart: not everything reached the store in 10 s\n");
    return 1;
  }
  weft::RuntimeStats s = rt.stats();
  std::printf("answer: %s\ncalls written: %llu (call_start) / %llu (call_end) into %s\n", a.c_str(),
              static_cast<unsigned long long>(s.call_start),
              static_cast<unsigned long long>(s.call_end), cfg.store_path.c_str());
  return s.call_end == 2 ? 0 : 1;
}
