#include <boost/test/unit_test.hpp>
#include <cmath>

#include "autograd/gradcheck.h"
#include "autograd/graph.h"
#include "nn/batch_norm.h"
#include "nn/conv.h"
#include "nn/io/error.h"
#include "nn/layers.h"
#include "nn/mobilenet_v2.h"

using namespace agilenn;
using namespace agilenn::nn;
using ag::Rng;

namespace {
// Gradient check of a module's output w.r.t. its input and all its parameters, in float64.
void check_module(Module& m, const Shape& in_shape, uint64_t seed) {
  m.to(DType::F64);
  Rng rng(seed);
  Tensor x = ag::rand_uniform(in_shape, rng, 0.1, 2.0, DType::F64).set_requires_grad(true);
  std::vector<Tensor> inputs = {x};
  auto params = m.parameters();
  for (auto* p : params) inputs.push_back(*p);
  ag::TensorFn fn = [&m, &params](const std::vector<Tensor>& in) {
    for (size_t i = 0; i < params.size(); ++i) *params[i] = in[i + 1];
    return m.forward(in[0]);
  };
  auto r = ag::gradcheck(fn, inputs, 1e-6, 1e-6, 1e-4);
  BOOST_TEST(r.ok, r.message);
}
}  // namespace

BOOST_AUTO_TEST_SUITE(layers)

BOOST_AUTO_TEST_CASE(conv_shapes_and_gradients) {
  Rng rng(1);
  Conv2d c(ConvSpec{3, 5, 3, 2, 1, true, true}, rng);
  BOOST_TEST(c.weight.shape() == (Shape{3, 3, 3, 5}));
  BOOST_TEST(c.forward(Tensor::zeros(Shape{2, 7, 9, 3})).shape() == (Shape{2, 4, 5, 5}));
  check_module(c, Shape{1, 5, 5, 3}, 2);
  auto dw = depthwise_conv2d(4, 3, 1, rng);
  BOOST_TEST(dw->weight.shape() == (Shape{3, 3, 1, 4}));
  check_module(*dw, Shape{2, 4, 4, 4}, 3);
  SeparableConv2d sep(2, 4, 3, 2, rng);
  BOOST_TEST(sep.forward(Tensor::zeros(Shape{1, 28, 28, 2})).shape() == (Shape{1, 14, 14, 4}));
  BOOST_TEST(sep.num_parameters() == 3 * 3 * 2 + 2 * 4);
  check_module(sep, Shape{1, 5, 5, 2}, 4);
}

BOOST_AUTO_TEST_CASE(batch_norm_train_and_eval) {
  BatchNorm bn(2);
  Tensor x = Tensor::from_vector({1, 10, 3, 20, 5, 30, 7, 40}, Shape{4, 2});
  Tensor y = bn.forward(x);
  // batch mean of channel 0 is 4, biased var 5: normalised first value (1-4)/sqrt(5+1e-3)
  BOOST_CHECK_CLOSE(y.to_vector()[0], -3.0 / std::sqrt(5.001), 1e-3);
  // running stats moved 1% toward the batch (unbiased var 20/3)
  BOOST_CHECK_CLOSE(bn.running_mean.to_vector()[0], 0.04, 1e-3);
  BOOST_CHECK_CLOSE(bn.running_var.to_vector()[0], 0.99 + 0.01 * 20.0 / 3.0, 1e-3);
  bn.eval();
  Tensor ye = bn.forward(x);
  BOOST_CHECK_CLOSE(ye.to_vector()[0], (1 - 0.04) / std::sqrt(bn.running_var.to_vector()[0] + 1e-3),
                    1e-3);
  bn.train();
  check_module(bn, Shape{3, 2, 2, 2}, 5);
}

BOOST_AUTO_TEST_CASE(linear_pool_dropout) {
  Rng rng(2);
  Linear fc(6, 3, rng);
  BOOST_TEST(fc.forward(Tensor::zeros(Shape{4, 6})).shape() == (Shape{4, 3}));
  check_module(fc, Shape{2, 6}, 6);
  GridAvgPool gp(2);
  BOOST_TEST(gp.forward(Tensor::zeros(Shape{3, 7, 7, 5})).shape() == (Shape{3, 2 * 2 * 5}));
  check_module(gp, Shape{1, 5, 3, 2}, 7);
  Dropout d(0.5, 9);
  Tensor ones = Tensor::full(Shape{1000}, 1.0);
  auto v = d.forward(ones).to_vector();
  int zeros = 0;
  for (double e : v) {
    BOOST_TEST((e == 0.0 || e == 2.0));
    zeros += e == 0.0;
  }
  BOOST_TEST(zeros > 400);
  BOOST_TEST(zeros < 600);
  d.eval();
  BOOST_TEST(d.forward(ones).to_vector() == ones.to_vector());
}

BOOST_AUTO_TEST_CASE(inverted_residual_and_mobilenet) {
  Rng rng(3);
  InvertedResidual ir(4, 4, 1, 2, rng);
  BOOST_TEST(ir.residual);
  check_module(ir, Shape{2, 3, 3, 4}, 8);
  InvertedResidual ir2(4, 6, 2, 1, rng);
  BOOST_TEST(!ir2.residual);
  BOOST_TEST(ir2.forward(Tensor::zeros(Shape{2, 5, 5, 4})).shape() == (Shape{2, 3, 3, 6}));

  MobileNetV2Config cfg;
  cfg.in_channels = 1;
  cfg.stem_channels = 24;
  cfg.scale_stem = false;
  cfg.blocks = {{1, 16, 1, 1}, {4, 24, 2, 2}, {4, 32, 2, 1}, {4, 64, 2, 2}, {4, 96, 1, 1}};
  cfg.last_channels = 256;
  MobileNetV2 net(cfg, rng);
  // Same architecture in PyTorch (tools/bench) has 149,338 parameters.
  BOOST_TEST(net.num_parameters() == 149338);
  BOOST_TEST(net.forward(Tensor::zeros(Shape{2, 28, 28, 1})).shape() == (Shape{2, 10}));
  BOOST_TEST(net.forward_stem(Tensor::zeros(Shape{2, 28, 28, 1})).shape() ==
             (Shape{2, 14, 14, 24}));
  // Without its stem the body takes 24-channel features.
  MobileNetV2Config body = cfg;
  body.stem = false;
  body.in_channels = 24;
  MobileNetV2 b(body, rng);
  BOOST_TEST(b.forward(Tensor::zeros(Shape{2, 14, 14, 24})).shape() == (Shape{2, 10}));
  auto j = cfg.to_json();
  auto back = MobileNetV2Config::from_json(Json::parse(j.dump()), "cfg");
  BOOST_TEST(back.to_json().dump() == j.dump());
  BOOST_CHECK_THROW(MobileNetV2Config::from_json(Json::parse("{}"), "cfg"), Error);
}

BOOST_AUTO_TEST_CASE(state_dict_round_trip_and_errors) {
  Rng rng(4);
  InvertedResidual a(4, 4, 1, 2, rng), b(4, 4, 1, 2, rng);
  auto sd = a.state_dict();
  BOOST_TEST(sd.count("block.0.weight") == 1);
  BOOST_TEST(sd.count("block.1.running_var") == 1);
  b.load_state_dict(sd);
  Tensor x = ag::randn(Shape{2, 3, 3, 4}, rng);
  a.eval();
  b.eval();
  BOOST_TEST(a.forward(x).to_vector() == b.forward(x).to_vector());
  auto bad = sd;
  bad["block.0.weight"] = Tensor::zeros(Shape{1, 1, 4, 9});
  BOOST_CHECK_THROW(b.load_state_dict(bad, "ckpt"), Error);
  bad = sd;
  bad.erase("block.1.gamma");
  BOOST_CHECK_THROW(b.load_state_dict(bad, "ckpt"), Error);
  bad = sd;
  bad["extra"] = Tensor::zeros(Shape{1});
  BOOST_CHECK_THROW(b.load_state_dict(bad, "ckpt"), Error);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(folding_batch_norm_keeps_the_function) {
  Rng rng(12);
  MobileNetV2Config cfg;
  cfg.in_channels = 2;
  cfg.stem_channels = 8;
  cfg.scale_stem = false;
  cfg.blocks = {{1, 8, 1, 1}, {2, 12, 2, 2}};
  cfg.last_channels = 16;
  MobileNetV2 net(cfg, rng);
  // Non-trivial statistics in every batch norm.
  for (auto& [name, t] : net.named_buffers())
    if (name.find("running_var") != std::string::npos)
      *t = ag::rand_uniform(t->shape(), rng, 0.5, 2.0);
    else if (name.find("running_mean") != std::string::npos)
      *t = ag::randn(t->shape(), rng, DType::F32, 0.3);
  net.eval();
  Tensor x = ag::randn(Shape{3, 9, 9, 2}, rng);
  auto before = net.forward(x).to_vector();
  const int64_t params_before = net.num_parameters();
  net.fold_batch_norm();
  auto after = net.forward(x).to_vector();
  BOOST_TEST(before == after, boost::test_tools::tolerance(1e-4)
                                  << boost::test_tools::per_element());
  BOOST_TEST(net.num_parameters() < params_before);  // gamma/beta gone, biases added
  BOOST_TEST(net.state_dict().count("body.0.block.1.running_mean") == 0);
}
