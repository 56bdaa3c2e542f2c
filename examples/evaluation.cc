// An evaluation: a dataset table, a model Object, and predict / score ops, into
// ./evaluation.db.
//
//   build/examples/evaluation [store path]
//
// The model is a plain struct described once with WEFT_OBJECT: passed to an op it is saved
// as a Weave Object and the call's inputs hold its weave:/// ref, as in Python's Weave.
#include <weft/weft.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <string>

namespace acme {

struct Model {
  std::string name;
  std::string prompt;
  double temperature;
};
WEFT_OBJECT(Model, name, prompt, temperature);

struct Score {
  bool correct;
  double confidence;
};
WEFT_OBJECT(Score, correct, confidence);

}  // namespace acme

int main(int argc, char** argv) {
  weft::Config cfg;
  cfg.project = "acme/evaluation";
  cfg.store_path = argc > 1 ? argv[1] : "evaluation.db";
  weft::Runtime rt(cfg);

  const std::map<std::string, std::string> rows = {
      {"2+2", "4"}, {"capital of France", "Paris"}, {"3*3", "9"}};
  std::vector<weft::Value> table_rows;
  for (const auto& [question, expected] : rows)
    table_rows.push_back(weft::to_value(std::map<std::string, std::string>{
        {"question", question}, {"expected", expected}}));
  weft::SavedRef dataset = rt.save(weft::make_table(std::move(table_rows)), "questions");

  const acme::Model model{"lookup-model", "Answer briefly: {question}", 0.0};
  auto predict = weft::op(rt, "predict", {"model", "question"},
                          [](const acme::Model&, const std::string& q) -> std::string {
                            if (q == "2+2") return "4";
                            if (q == "capital of France") return "Paris";
                            return "unknown";
                          });
  auto score = weft::op(rt, "score", {"expected", "output"},
                        [](const std::string& expected, const std::string& output) {
                          return acme::Score{expected == output, expected == output ? 1.0 : 0.2};
                        });
  auto evaluate = weft::op(rt, "evaluate", {"model"}, [&](const acme::Model& m) {
    int correct = 0;
    for (const auto& [question, expected] : rows)
      correct += score(expected, predict(m, question)).correct ? 1 : 0;
    return std::map<std::string, double>{{"accuracy", double(correct) / double(rows.size())}};
  });

  double accuracy = evaluate(model).at("accuracy");
  if (!rt.flush(std::chrono::seconds(10))) {
    std::fprintf(stderr, "evaluation: not everything reached the store in 10 s\n");
    return 1;
  }
  std::printf("accuracy %.2f over %zu rows; dataset %s\n", accuracy, rows.size(),
              dataset.uri().c_str());
  weft::RuntimeStats s = rt.stats();
  // evaluate + 3 x (predict + score), and the model Object, the Score Objects, the table.
  std::printf("calls: %llu, objects: %llu, tables: %llu\n",
              static_cast<unsigned long long>(s.call_end),
              static_cast<unsigned long long>(s.obj_create),
              static_cast<unsigned long long>(s.table_create));
  return s.call_end == 7 && s.table_create == 1 ? 0 : 1;
}
