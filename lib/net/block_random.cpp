#include "net/block_random.hpp"

#include "crypto/suite.hpp"

namespace kd::net {

void BlockRandom::refill() {
  crypto::OsRandom().fill(Purpose::nonce, block_);
  used_ = 0;
}

}  // namespace kd::net
