#include <boost/test/unit_test.hpp>
#include <cmath>

#include "nn/io/error.h"
#include "nn/optimizer.h"

using namespace agilenn;
using namespace agilenn::nn;

namespace {
struct One : Module {
  Tensor w;
  One(std::vector<double> v) {
    w = Tensor::from_vector(v, Shape{int64_t(v.size())}, DType::F64);
    register_parameter("w", &w);
  }
  Tensor forward(const Tensor& x) override { return ag::mul(x, w); }
};
}  // namespace

BOOST_AUTO_TEST_CASE(sgdw_matches_hand_computation) {
  One m({1.0, -2.0});
  SGDW opt(m.named_parameters(), 0.9, 0.1);
  m.w.set_grad(Tensor::from_vector({0.5, 1.0}, Shape{2}, DType::F64));
  opt.step(0.1);  // v = g; w -= 0.1 (v + 0.1 w)
  BOOST_CHECK_CLOSE(m.w.to_vector()[0], 1.0 - 0.1 * (0.5 + 0.1), 1e-12);
  BOOST_CHECK_CLOSE(m.w.to_vector()[1], -2.0 - 0.1 * (1.0 - 0.2), 1e-12);
  const double w0 = m.w.to_vector()[0];
  opt.step(0.05);  // v = 0.9*0.5 + 0.5 = 0.95
  BOOST_CHECK_CLOSE(m.w.to_vector()[0], w0 - 0.05 * (0.95 + 0.1 * w0), 1e-12);
}

BOOST_AUTO_TEST_CASE(adam_matches_hand_computation) {
  One m({1.0});
  Adam opt(m.named_parameters(), 0.9, 0.999, 1e-8);
  m.w.set_grad(Tensor::from_vector({2.0}, Shape{1}, DType::F64));
  opt.step(0.01);  // first step: m_hat = g, v_hat = g^2 -> w -= lr * g/|g|
  BOOST_CHECK_CLOSE(m.w.to_vector()[0], 1.0 - 0.01 * 2.0 / (2.0 + 1e-8), 1e-10);
  m.w.set_grad(Tensor::from_vector({-1.0}, Shape{1}, DType::F64));
  opt.step(0.01);
  const double mm = 0.9 * 0.2 + 0.1 * -1.0, vv = 0.999 * 0.004 + 0.001 * 1.0;
  const double upd = (mm / (1 - 0.81)) / (std::sqrt(vv / (1 - 0.999 * 0.999)) + 1e-8);
  BOOST_CHECK_CLOSE(m.w.to_vector()[0], 1.0 - 0.01 * 2.0 / (2.0 + 1e-8) - 0.01 * upd, 1e-9);
}

BOOST_AUTO_TEST_CASE(optimizer_state_round_trip) {
  One a({1.0, 2.0}), b({1.0, 2.0});
  SGDW oa(a.named_parameters()), ob(b.named_parameters());
  a.w.set_grad(Tensor::from_vector({0.3, -0.4}, Shape{2}, DType::F64));
  oa.step(0.1);
  b.load_state_dict(a.state_dict());
  ob.load_state(oa.state(), "state");
  for (auto* m : {&a, &b}) m->w.set_grad(Tensor::from_vector({0.1, 0.2}, Shape{2}, DType::F64));
  oa.step(0.1);
  ob.step(0.1);
  BOOST_TEST(a.w.to_vector() == b.w.to_vector());
  BOOST_CHECK_THROW(ob.load_state({}, "state"), Error);
}

BOOST_AUTO_TEST_CASE(cosine_schedule) {
  BOOST_CHECK_CLOSE(cosine_lr(0.1, 0, 100, 10), 0.01, 1e-9);
  BOOST_CHECK_CLOSE(cosine_lr(0.1, 9, 100, 10), 0.1, 1e-9);
  BOOST_CHECK_CLOSE(cosine_lr(0.1, 10, 100, 10), 0.1, 1e-9);
  BOOST_CHECK_CLOSE(cosine_lr(0.1, 55, 100, 10), 0.05, 1e-9);
  BOOST_TEST(cosine_lr(0.1, 100, 100, 10) < 1e-12);
}
