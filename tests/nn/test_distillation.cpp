#include <boost/test/unit_test.hpp>
#include <cmath>

#include "autograd/gradcheck.h"
#include "autograd/graph.h"
#include "autograd/ops.h"
#include "autograd/random.h"
#include "nn/distillation.h"
#include "nn/io/error.h"

using namespace agilenn;
using ag::DType;
using ag::Shape;
using ag::Tensor;

BOOST_AUTO_TEST_SUITE(distillation)

// KL(softmax(t/T) || softmax(s/T)) * T^2, averaged over rows, computed by hand.
BOOST_AUTO_TEST_CASE(value_matches_hand_computed_kl) {
  const std::vector<double> s = {1.0, -0.5, 2.0, 0.3, 0.3, -1.0};
  const std::vector<double> t = {0.2, 1.5, -0.7, 2.0, -2.0, 0.5};
  const double T = 2.5;
  double expect = 0;
  for (int n = 0; n < 2; ++n) {
    double zs = 0, zt = 0;
    for (int c = 0; c < 3; ++c) zs += std::exp(s[n * 3 + c] / T), zt += std::exp(t[n * 3 + c] / T);
    for (int c = 0; c < 3; ++c) {
      const double q = std::exp(t[n * 3 + c] / T) / zt, p = std::exp(s[n * 3 + c] / T) / zs;
      expect += q * std::log(q / p);
    }
  }
  expect = expect / 2 * T * T;
  Tensor ls = Tensor::from_vector(s, Shape{2, 3}, DType::F64);
  Tensor lt = Tensor::from_vector(t, Shape{2, 3}, DType::F64);
  BOOST_TEST(nn::distillation_loss(ls, lt, T).item() == expect,
             boost::test_tools::tolerance(1e-12));
  // Identical logits: zero (a true KL, not the soft cross-entropy).
  BOOST_TEST(std::abs(nn::distillation_loss(lt, lt, T).item()) < 1e-12);
}

BOOST_AUTO_TEST_CASE(gradients_flow_to_the_student_only) {
  ag::Rng rng(3);
  Tensor s = ag::rand_uniform(Shape{4, 5}, rng, -2, 2, DType::F64).set_requires_grad(true);
  Tensor t = ag::rand_uniform(Shape{4, 5}, rng, -2, 2, DType::F64).set_requires_grad(true);
  ag::TensorFn fn = [&t](const std::vector<Tensor>& in) {
    return nn::distillation_loss(in[0], t, 3.0);
  };
  auto r = ag::gradcheck(fn, {s});
  BOOST_TEST(r.ok, r.message);
  auto r2 = ag::gradgradcheck(fn, {s});
  BOOST_TEST(r2.ok, r2.message);
  Tensor loss = nn::distillation_loss(s, t, 3.0);
  loss.backward();
  BOOST_TEST(!t.grad().defined());  // the teacher is a constant
}

BOOST_AUTO_TEST_CASE(bad_arguments_are_refused) {
  Tensor a = Tensor::zeros(Shape{2, 3}), b = Tensor::zeros(Shape{2, 4});
  BOOST_CHECK_THROW(nn::distillation_loss(a, b, 4.0), Error);
  BOOST_CHECK_THROW(nn::distillation_loss(a, a, 0.0), Error);
}

BOOST_AUTO_TEST_SUITE_END()
