// The composite path (conv -> BN(eval) -> ReLU6 -> depthwise -> SiLU -> GAP -> dense -> CE) and an
// integrated-gradients loss through its input-gradient, against PyTorch (make_torch_fixture.py).
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <map>

#include "autograd/engine.h"
#include "autograd/ops.h"
#include "nn/io/atomic_file.h"
#include "nn/io/json.h"

using namespace agilenn::ag;
using agilenn::Json;

namespace {

struct Fixture {
  Json j;
  Fixture() {
    j = Json::parse(
        agilenn::read_file_text(AGILENN_SOURCE_DIR "/tests/autograd/fixtures/composite.json"),
        "composite.json");
  }
  std::vector<double> vec(const Json& arr) const {
    std::vector<double> v;
    for (auto& e : arr.as_array()) v.push_back(e.as_number());
    return v;
  }
  Shape shape(const char* name) const {
    std::vector<int64_t> s;
    for (auto& e : j.at("shapes").at(name).as_array()) s.push_back(e.as_int());
    return Shape(s);
  }
};

// Returns the loss of the composite network; params in the fixture's order.
Tensor composite_loss(const Tensor& x, std::map<std::string, Tensor>& p, const Tensor& rmean,
                      const Tensor& rvar, const Tensor& labels, double eps) {
  Conv2dOptions c1;
  c1.pad_h = c1.pad_w = 1;
  Tensor h = conv2d(x, p["w1"], c1);
  h = batch_norm_eval(h, p["gamma"], p["beta"], rmean, rvar, eps);
  h = relu6(h);
  Conv2dOptions dw;
  dw.pad_h = dw.pad_w = 1;
  dw.stride_h = dw.stride_w = 2;
  dw.groups = int(p["wd"].dim(3));  // depthwise
  h = conv2d(h, p["wd"], dw);
  h = silu(h);
  h = global_avg_pool(h);
  Tensor logits = add(matmul(h, p["wfc"]), p["bfc"]);
  return cross_entropy(logits, labels);
}

double max_rel_err(const std::vector<double>& ours, const std::vector<double>& ref) {
  double scale = 0, err = 0;
  for (double r : ref) scale = std::max(scale, std::fabs(r));
  for (size_t i = 0; i < ref.size(); ++i) err = std::max(err, std::fabs(ours[i] - ref[i]));
  return err / std::max(scale, 1e-300);
}

void run(DType dt, double tol) {
  Fixture f;
  const Json& in = f.j.at("inputs");
  const std::vector<std::string> names = {"w1", "gamma", "beta", "wd", "wfc", "bfc"};
  const std::map<std::string, Shape> shapes = {{"w1", f.shape("w1")},   {"gamma", Shape{4}},
                                               {"beta", Shape{4}},      {"wd", f.shape("wd")},
                                               {"wfc", f.shape("wfc")}, {"bfc", Shape{5}}};
  std::map<std::string, Tensor> p;
  std::vector<Tensor> plist;
  for (auto& n : names) {
    p[n] = Tensor::from_vector(f.vec(in.at(n)), shapes.at(n), dt).set_requires_grad(true);
    plist.push_back(p[n]);
  }
  Tensor x = Tensor::from_vector(f.vec(in.at("x")), f.shape("x"), dt);
  Tensor rmean = Tensor::from_vector(f.vec(in.at("rmean")), Shape{4}, dt);
  Tensor rvar = Tensor::from_vector(f.vec(in.at("rvar")), Shape{4}, dt);
  std::vector<int32_t> lab;
  for (auto& e : f.j.at("labels").as_array()) lab.push_back(int32_t(e.as_int()));
  Tensor labels = Tensor::from_ints(lab, Shape{int64_t(lab.size())});
  const double eps = f.j.at("eps").as_number();

  // Loss and first-order gradients.
  Tensor xi = x.clone().set_requires_grad(true);
  Tensor loss = composite_loss(xi, p, rmean, rvar, labels, eps);
  BOOST_TEST(std::fabs(loss.item() - f.j.at("loss").as_number()) <=
             tol * std::fabs(f.j.at("loss").as_number()));
  std::vector<Tensor> wrt = {xi};
  wrt.insert(wrt.end(), plist.begin(), plist.end());
  auto g = grad({loss}, wrt);
  BOOST_TEST(max_rel_err(g[0].to_vector(), f.vec(f.j.at("grad").at("x"))) <= tol);
  for (size_t i = 0; i < names.size(); ++i)
    BOOST_TEST(max_rel_err(g[i + 1].to_vector(), f.vec(f.j.at("grad").at(names[i]))) <= tol,
               "grad " << names[i]);

  // IG-style loss: |0.5 (g(x) + g(0)) x| over channels 0..1, differentiated w.r.t. the parameters.
  Tensor xg = x.clone().set_requires_grad(true);
  Tensor gx =
      grad({composite_loss(xg, p, rmean, rvar, labels, eps)}, {xg}, {}, /*create_graph=*/true)[0];
  Tensor x0 = Tensor::zeros(x.shape(), dt).set_requires_grad(true);
  Tensor g0 = grad({composite_loss(x0, p, rmean, rvar, labels, eps)}, {x0})[0];
  Tensor ig = sum(slice(abs(mul(mul(add(gx, g0), 0.5), x)), 3, 0, 2));
  BOOST_TEST(std::fabs(ig.item() - f.j.at("ig_loss").as_number()) <=
             tol * f.j.at("ig_loss").as_number());
  auto gi = grad({ig}, plist);
  for (size_t i = 0; i < names.size(); ++i)
    BOOST_TEST(max_rel_err(gi[i].to_vector(), f.vec(f.j.at("ig_grad").at(names[i]))) <= tol,
               "ig grad " << names[i]);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(torch_fixture)
BOOST_AUTO_TEST_CASE(composite_float64_matches_pytorch_to_1e_10) {
  run(DType::F64, 1e-10);
}
BOOST_AUTO_TEST_CASE(composite_float32_matches_pytorch_to_1e_4) {
  run(DType::F32, 1e-4);
}
BOOST_AUTO_TEST_SUITE_END()
