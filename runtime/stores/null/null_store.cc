// The null store: accepts every request and writes nothing. Benchmarks use it to measure
// the runtime without the cost of a real store.
#include <weft/store.h>

namespace weft {
namespace {

class NullStore final : public Store {
 public:
  void write_batch(std::span<const StoreRequest> batch, std::vector<Status>& results) override {
    results.assign(batch.size(), Status::ok());
  }
  std::string describe() const override { return "null"; }
};

}  // namespace

std::unique_ptr<Store> make_null_store() { return std::make_unique<NullStore>(); }

}  // namespace weft
