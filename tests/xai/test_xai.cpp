#include <boost/test/unit_test.hpp>
#include <cmath>

#include "autograd/engine.h"
#include "autograd/gradcheck.h"
#include "autograd/graph.h"
#include "nn/io/error.h"
#include "nn/optimizer.h"
#include "xai/agile_loss.h"
#include "xai/remapping.h"

using namespace agilenn;
using namespace agilenn::xai;
using ag::DType;
using ag::Rng;
using ag::Shape;

namespace {
SplitConfig tiny_config() {
  SplitConfig c;
  c.height = c.width = 8;
  c.in_channels = 1;
  c.num_classes = 3;
  c.extractor_hidden = 2;
  c.features = 5;
  c.split_ratio = 0.4;  // k = 2
  c.centroids = 4;
  c.local_head = "grid:2";
  c.remote.blocks = {{1, 4, 1, 1}};
  c.remote.last_channels = 8;
  return c;
}
Tensor f64(std::vector<double> v, Shape s) {
  return Tensor::from_vector(v, s, DType::F64);
}
}  // namespace

BOOST_AUTO_TEST_SUITE(xai)

BOOST_AUTO_TEST_CASE(losses_on_hand_made_importance) {
  // One sample, 1x1 map, 4 channels, k = 2: importance 3, 1, 4, 2 -> p = .3 .1 .4 .2
  Tensor imp = f64({3, 1, 4, 2}, Shape{1, 1, 1, 4});
  Tensor p = channel_importance(imp);
  BOOST_CHECK_CLOSE(p.to_vector()[2], 0.4, 1e-9);
  BOOST_CHECK_CLOSE(skewness(p, 2).item(), 0.4, 1e-9);
  BOOST_CHECK_CLOSE(skewness_loss(p, 2, 0.8).item(), 0.4, 1e-9);                       // 0.8 - 0.4
  BOOST_CHECK_CLOSE(disorder_loss(imp, p, 2, DisorderForm::Paper).item(), 0.3, 1e-9);  // 0.4 - 0.1
  BOOST_CHECK_CLOSE(disorder_loss(imp, p, 2, DisorderForm::Public).item(), 0.3,
                    1e-9);  // (4 - 1) / 10
  BOOST_CHECK_CLOSE(disorder_violation_rate(p, 2), 1.0, 1e-9);
  // Already skewed and ordered: both losses vanish.
  Tensor good = f64({5, 4, 0.5, 0.5}, Shape{1, 1, 1, 4});
  Tensor pg = channel_importance(good);
  BOOST_TEST(skewness_loss(pg, 2, 0.8).item() == 0.0);
  BOOST_TEST(disorder_loss(good, pg, 2, DisorderForm::Paper).item() == 0.0);
  BOOST_TEST(disorder_violation_rate(pg, 2) == 0.0);
  // Sample weights select samples.
  Tensor two = f64({3, 1, 4, 2, 5, 4, 0.5, 0.5}, Shape{2, 1, 1, 4});
  Tensor p2 = channel_importance(two);
  BOOST_CHECK_CLOSE(skewness_loss(p2, 2, 0.8, f64({1, 0}, Shape{2})).item(), 0.4, 1e-9);
  BOOST_TEST(skewness_loss(p2, 2, 0.8, f64({0, 1}, Shape{2})).item() == 0.0);
  BOOST_CHECK_THROW(skewness(p, 4), Error);
}

BOOST_AUTO_TEST_CASE(quantizer_forward_is_nearest_and_backward_is_soft) {
  Quantizer q(4);
  q.to(DType::F64);
  auto c = q.centroids().to_vector();  // 0.75, 2.25, 3.75, 5.25
  BOOST_CHECK_CLOSE(c[0], 0.75, 1e-4);
  BOOST_CHECK_CLOSE(c[3], 5.25, 1e-4);
  Tensor x = f64({0.0, 1.4, 1.6, 3.0, 6.0, 4.4}, Shape{2, 3}).set_requires_grad(true);
  Tensor y = q.forward(x);
  BOOST_TEST(y.to_vector() == std::vector<double>({0.75, 0.75, 2.25, 2.25, 5.25, 3.75}),
             boost::test_tools::tolerance(1e-6) << boost::test_tools::per_element());
  BOOST_TEST(q.indices(x).to_vector() == std::vector<double>({0, 0, 1, 1, 3, 2}),
             boost::test_tools::per_element());
  // Gradient of the quantized output equals the soft path's gradient (inputs and centroids).
  Tensor v = f64({1, -2, 0.5, 3, 1, -1}, Shape{2, 3});
  auto gq = ag::grad({y}, {x, q.w}, {v});
  auto gs = ag::grad({q.soft(x)}, {x, q.w}, {v});
  BOOST_TEST(gq[0].to_vector() == gs[0].to_vector(), boost::test_tools::tolerance(1e-12)
                                                         << boost::test_tools::per_element());
  BOOST_TEST(gq[1].to_vector() == gs[1].to_vector(), boost::test_tools::tolerance(1e-12)
                                                         << boost::test_tools::per_element());
  BOOST_TEST(std::fabs(gq[0].to_vector()[1]) > 0);  // the soft path does pass a gradient
}

BOOST_AUTO_TEST_CASE(integrated_gradients_batched_equals_pointwise) {
  Rng rng(5);
  ag::Tensor w = ag::randn(Shape{1, 1, 3, 4}, rng, DType::F64);
  ReferenceFn ref = [w](const Tensor& f) {
    return ag::global_avg_pool(ag::tanh(ag::conv2d(f, w)));
  };
  Tensor f = ag::rand_uniform(Shape{2, 3, 3, 3}, rng, 0, 2, DType::F64);
  Tensor lab = Tensor::from_ints({1, 3}, Shape{2});
  Tensor g0 = baseline_gradients(ref, Shape{3, 3, 3}, 4, DType::F64);
  // m = 2: |0.5 (g(f) + g(0)) f|
  auto r2 = feature_importance(ref, f, lab, g0, XaiMethod::IntegratedGradients, 2, false);
  auto grad_at = [&](const Tensor& z) {
    Tensor zz = z.detach().set_requires_grad(true);
    return ag::grad({ag::mul(ag::cross_entropy(ref(zz), lab), 2.0)}, {zz})[0];
  };
  Tensor gf = grad_at(f), gz = grad_at(Tensor::zeros(f.shape(), DType::F64));
  Tensor expect2 = ag::abs(ag::mul(ag::mul(ag::add(gf, gz), 0.5), f));
  BOOST_TEST(r2.importance.to_vector() == expect2.to_vector(),
             boost::test_tools::tolerance(1e-12) << boost::test_tools::per_element());
  // m = 5 batched against a loop over the points with trapezoid weights.
  auto r5 = feature_importance(ref, f, lab, g0, XaiMethod::IntegratedGradients, 5, false);
  auto wts = trapezoid_weights(5);
  Tensor acc = ag::mul(gz, wts[0]);
  for (int j = 1; j < 5; ++j)
    acc = ag::add(acc, ag::mul(grad_at(ag::mul(f, j / 4.0)), wts[size_t(j)]));
  Tensor expect5 = ag::abs(ag::mul(acc, f));
  BOOST_TEST(r5.importance.to_vector() == expect5.to_vector(),
             boost::test_tools::tolerance(1e-12) << boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(integrated_gradients_chunked_equals_one_batch) {
  // The points go through the reference in chunks of ig_chunk_images() images: one point per
  // chunk, two, or all in one batch give the same importance, logits and second-order gradient.
  Rng rng(9);
  ag::Tensor w = ag::randn(Shape{3, 3, 3, 4}, rng, DType::F64, 0.5);
  ReferenceFn ref = [w](const Tensor& f) {
    return ag::global_avg_pool(ag::relu6(ag::conv2d(f, w, ag::Conv2dOptions{.same = true})));
  };
  Tensor f0 = ag::rand_uniform(Shape{3, 5, 5, 3}, rng, -1, 3, DType::F64);
  Tensor lab = Tensor::from_ints({1, 3, 0}, Shape{3});
  Tensor probe = ag::randn(f0.shape(), rng, DType::F64);
  Tensor g0 = baseline_gradients(ref, Shape{5, 5, 3}, 4, DType::F64);
  const int saved = ig_chunk_images();
  std::vector<std::vector<double>> imps, logits, grads;
  for (int chunk : {1, 3, 6, 7, 1000}) {
    set_ig_chunk_images(chunk);
    Tensor f = f0.detach().set_requires_grad(true);
    auto r = feature_importance(ref, f, lab, g0, XaiMethod::IntegratedGradients, 6, true);
    Tensor loss = ag::sum(ag::mul(r.importance, probe));
    imps.push_back(r.importance.to_vector());
    logits.push_back(r.logits.to_vector());
    grads.push_back(ag::grad({loss}, {f})[0].to_vector());
  }
  set_ig_chunk_images(saved);
  for (size_t i = 1; i < imps.size(); ++i) {
    BOOST_TEST(imps[i] == imps[0], boost::test_tools::tolerance(1e-12)
                                       << boost::test_tools::per_element());
    BOOST_TEST(logits[i] == logits[0], boost::test_tools::tolerance(1e-12)
                                           << boost::test_tools::per_element());
    BOOST_TEST(grads[i] == grads[0], boost::test_tools::tolerance(1e-10)
                                         << boost::test_tools::per_element());
  }
  double norm = 0;
  for (double v : grads[0]) norm += std::fabs(v);
  BOOST_TEST(norm > 0);  // the second-order path does carry a gradient
  BOOST_CHECK_THROW(set_ig_chunk_images(0), Error);
}

BOOST_AUTO_TEST_CASE(skewness_gradient_through_the_reference_matches_finite_differences) {
  // Tiny model and reference in float64; gradient of the skewness loss (which contains the
  // reference's gradient at the features) w.r.t. the extractor's weights.
  Rng rng(11);
  SplitConfig cfg = tiny_config();
  SplitModel model(cfg, rng);
  model.to(DType::F64);
  model.eval();  // batch norm with running statistics: a smooth function of the weights
  ag::Tensor rw = ag::randn(Shape{3, 3, 5, 3}, rng, DType::F64, 0.5);
  ReferenceFn ref = [rw](const Tensor& f) {
    return ag::global_avg_pool(ag::tanh(ag::conv2d(f, rw, ag::Conv2dOptions{.same = true})));
  };
  Tensor x = ag::rand_uniform(Shape{2, 8, 8, 1}, rng, 0, 1, DType::F64);
  Tensor lab = Tensor::from_ints({0, 2}, Shape{2});
  Tensor g0 = baseline_gradients(ref, Shape{4, 4, 5}, 3, DType::F64);
  auto sep0 = std::dynamic_pointer_cast<nn::SeparableConv2d>((*model.extractor)[0]);
  auto sep1 = std::dynamic_pointer_cast<nn::SeparableConv2d>((*model.extractor)[3]);
  std::vector<Tensor*> params = {&sep0->depthwise->weight, &sep1->pointwise->weight};
  std::vector<Tensor> inputs;
  for (auto* p : params) inputs.push_back(*p);
  ag::TensorFn fn = [&](const std::vector<Tensor>& in) {
    for (size_t i = 0; i < params.size(); ++i) *params[i] = in[i];
    Tensor f = model.extract(x);
    auto imp = feature_importance(ref, f, lab, g0, XaiMethod::IntegratedGradients, 3, true);
    Tensor p = channel_importance(imp.importance);
    return ag::add(skewness_loss(p, cfg.k(), 0.99),
                   disorder_loss(imp.importance, p, cfg.k(), DisorderForm::Public));
  };
  auto r = ag::gradcheck(fn, inputs, 1e-6, 1e-8, 1e-4);
  BOOST_TEST(r.ok, r.message);
  BOOST_TEST(r.max_abs_err < 1e-6);
  // Again with every point in its own pass through the reference (the chunked path).
  const int saved = ig_chunk_images();
  set_ig_chunk_images(2);
  auto rc = ag::gradcheck(fn, inputs, 1e-6, 1e-8, 1e-4);
  set_ig_chunk_images(saved);
  BOOST_TEST(rc.ok, rc.message);
  BOOST_TEST(rc.max_abs_err < 1e-6);
}

BOOST_AUTO_TEST_CASE(remapping_permutes_channels_and_nothing_else) {
  Rng rng(3);
  SplitModel m(tiny_config(), rng);
  m.eval();
  // Make the running statistics non-trivial so the permutation of every BN tensor matters.
  auto bn = std::dynamic_pointer_cast<nn::BatchNorm>((*m.extractor)[4]);
  bn->running_mean = ag::randn(Shape{5}, rng, DType::F32, 0.1);
  bn->gamma = ag::rand_uniform(Shape{5}, rng, 0.5, 1.5).set_requires_grad(true);
  Tensor x = ag::rand_uniform(Shape{2, 8, 8, 1}, rng, 0, 1);
  auto before = m.extract(x).to_vector();
  std::vector<int> perm = {3, 0, 4, 1, 2};
  permute_extractor_outputs(m, perm);
  auto after = m.extract(x).to_vector();
  for (size_t i = 0; i < after.size(); ++i) {
    const size_t pix = i / 5, ch = i % 5;
    BOOST_TEST(after[i] == before[pix * 5 + size_t(perm[ch])]);
  }
  BOOST_CHECK_THROW(permute_extractor_outputs(m, {0, 0, 1, 2, 3}), Error);
  // Ranking: channel 2 most important, then 0.
  Tensor p = f64({0.3, 0.1, 0.4, 0.1, 0.1, 0.3, 0.0, 0.5, 0.1, 0.1}, Shape{2, 5});
  auto order = rank_channels({p}, 2, Remapping::GlobalImportance);
  BOOST_TEST(order[0] == 2);
  BOOST_TEST(order[1] == 0);
  BOOST_TEST(rank_channels({p}, 2, Remapping::None)[0] == 0);
  BOOST_CHECK_THROW(parse_remapping("bogus"), Error);
}

BOOST_AUTO_TEST_CASE(split_model_shapes_and_alpha) {
  Rng rng(4);
  SplitConfig cfg = tiny_config();
  SplitModel m(cfg, rng);
  auto o = m.run(ag::rand_uniform(Shape{3, 8, 8, 1}, rng, 0, 1));
  BOOST_TEST(o.features.shape() == (Shape{3, 4, 4, 5}));
  BOOST_TEST(o.local_logits.shape() == (Shape{3, 3}));
  BOOST_TEST(o.remote_logits.shape() == (Shape{3, 3}));
  BOOST_CHECK_CLOSE(o.alpha.item(), 0.5, 1e-6);
  auto o1 = m.run(ag::rand_uniform(Shape{3, 8, 8, 1}, rng, 0, 1), 1.0);
  BOOST_TEST(o1.logits.to_vector() == o1.local_logits.to_vector());
  SplitConfig u = cfg;
  u.unsplit = true;
  SplitModel mu(u, rng);
  BOOST_TEST(!mu.run(ag::rand_uniform(Shape{2, 8, 8, 1}, rng, 0, 1)).local_logits.defined());
  SplitConfig bad = cfg;
  bad.local_head = "grid:x";
  BOOST_CHECK_THROW(SplitModel(bad, rng), Error);
  bad.local_head = "grid:9";
  BOOST_CHECK_THROW(SplitModel(bad, rng), Error);
  auto back = SplitConfig::from_json(Json::parse(cfg.to_json().dump()), "cfg");
  BOOST_TEST(back.to_json().dump() == cfg.to_json().dump());
}

BOOST_AUTO_TEST_CASE(agile_loss_trains_skewness_up) {
  Rng rng(8);
  SplitConfig cfg = tiny_config();
  SplitModel m(cfg, rng);
  ag::Tensor rw = ag::randn(Shape{3, 3, 5, 3}, rng, DType::F32, 0.5);
  ReferenceFn ref = [rw](const Tensor& f) {
    return ag::global_avg_pool(ag::tanh(ag::conv2d(f, rw, ag::Conv2dOptions{.same = true})));
  };
  Tensor g0 = baseline_gradients(ref, Shape{4, 4, 5}, 3, DType::F32);
  Tensor x = ag::rand_uniform(Shape{16, 8, 8, 1}, rng, 0, 1);
  std::vector<int32_t> l;
  for (int i = 0; i < 16; ++i) l.push_back(i % 3);
  Tensor lab = Tensor::from_ints(l, Shape{16});
  AgileLossConfig lc;
  lc.lambda = 0.1;
  lc.rho = 0.9;
  nn::Adam opt(m.named_parameters());
  double first = 0, last = 0;
  for (int it = 0; it < 60; ++it) {
    auto r = agile_loss(m, ref, g0, x, lab, lc);
    if (it == 0) first = r.skewness;
    last = r.skewness;
    opt.zero_grad();
    r.loss.backward();
    opt.step(0.01);
  }
  BOOST_TEST(last > first + 0.1, "skewness " << first << " -> " << last);
}

BOOST_AUTO_TEST_SUITE_END()
