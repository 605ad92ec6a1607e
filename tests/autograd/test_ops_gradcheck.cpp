// Every op: first-order and second-order finite-difference checks in float64.
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include "autograd/engine.h"
#include "autograd/gradcheck.h"
#include "autograd/ops.h"
#include "autograd/random.h"

using namespace agilenn::ag;

namespace {

struct OpCase {
  std::string name;
  std::vector<Shape> shapes;
  TensorFn fn;
  double lo = -2, hi = 2;  // input range (log/sqrt need positives)
  bool second_order = true;
};

Tensor input(const Shape& s, Rng& rng, double lo, double hi) {
  return rand_uniform(s, rng, lo, hi, DType::F64).set_requires_grad(true);
}

Tensor labels(std::vector<int32_t> v) {
  return Tensor::from_ints(v, Shape{int64_t(v.size())});
}

Conv2dOptions conv_opt(int stride, int dil, int groups, bool same, int pad = 0) {
  Conv2dOptions o;
  o.stride_h = o.stride_w = stride;
  o.dil_h = o.dil_w = dil;
  o.groups = groups;
  o.same = same;
  o.pad_h = o.pad_w = pad;
  return o;
}

std::vector<OpCase> op_cases() {
  std::vector<OpCase> c;
  auto u = [](const char* n, std::function<Tensor(const Tensor&)> f, double lo = -2,
              double hi = 2) {
    return OpCase{n, {Shape{3, 5}}, [f](const std::vector<Tensor>& x) { return f(x[0]); }, lo, hi};
  };
  auto b = [](const char* n, Shape sa, Shape sb,
              std::function<Tensor(const Tensor&, const Tensor&)> f, double lo = -2,
              double hi = 2) {
    return OpCase{n, {sa, sb}, [f](const std::vector<Tensor>& x) { return f(x[0], x[1]); }, lo, hi};
  };
  c.push_back(
      b("add_broadcast", Shape{2, 3, 4}, Shape{4}, [](auto& x, auto& y) { return add(x, y); }));
  c.push_back(
      b("sub_broadcast", Shape{2, 1, 4}, Shape{3, 1}, [](auto& x, auto& y) { return sub(x, y); }));
  c.push_back(b("mul_broadcast", Shape{2, 3, 4}, Shape{2, 1, 4},
                [](auto& x, auto& y) { return mul(x, y); }));
  c.push_back(b(
      "div_broadcast", Shape{3, 4}, Shape{4}, [](auto& x, auto& y) { return div(x, y); }, 0.5, 2));
  c.push_back(
      b("maximum", Shape{3, 4}, Shape{3, 4}, [](auto& x, auto& y) { return maximum(x, y); }));
  c.push_back(b("minimum_broadcast", Shape{3, 4}, Shape{1, 4},
                [](auto& x, auto& y) { return minimum(x, y); }));
  c.push_back(b("where", Shape{3, 4}, Shape{4},
                [](auto& x, auto& y) { return where(gt(x, 0.0), mul(x, x), y); }));
  c.push_back(u("add_scalar", [](auto& x) { return add(x, 1.5); }));
  c.push_back(u("mul_scalar", [](auto& x) { return mul(x, -2.5); }));
  c.push_back(u("rsub_scalar", [](auto& x) { return rsub(3.0, x); }));
  c.push_back(u("maximum_scalar", [](auto& x) { return maximum(x, 0.3); }));
  c.push_back(u("minimum_scalar", [](auto& x) { return minimum(x, 0.3); }));
  c.push_back(u("neg", [](auto& x) { return neg(x); }));
  c.push_back(u("exp", [](auto& x) { return exp(x); }));
  c.push_back(u(
      "log", [](auto& x) { return log(x); }, 0.2, 3));
  c.push_back(u(
      "sqrt", [](auto& x) { return sqrt(x); }, 0.2, 3));
  c.push_back(u(
      "rsqrt", [](auto& x) { return rsqrt(x); }, 0.2, 3));
  c.push_back(u(
      "pow_2.5", [](auto& x) { return pow(x, 2.5); }, 0.2, 3));
  c.push_back(u("pow_3", [](auto& x) { return pow(x, 3.0); }));
  c.push_back(u("abs", [](auto& x) { return abs(x); }));
  c.push_back(u(
      "sigmoid", [](auto& x) { return sigmoid(x); }, -4, 4));
  c.push_back(u("tanh", [](auto& x) { return tanh(x); }));
  c.push_back(u(
      "silu", [](auto& x) { return silu(x); }, -4, 4));
  c.push_back(u("relu", [](auto& x) { return relu(x); }));
  c.push_back(u(
      "relu6", [](auto& x) { return relu6(x); }, -2, 8));
  c.push_back(u("clamp", [](auto& x) { return clamp(x, -0.5, 0.7); }));
  c.push_back(u("sum_all", [](auto& x) { return sum(mul(x, x)); }));
  c.push_back(OpCase{"sum_axes_keepdim", {Shape{2, 3, 4}}, [](auto& x) {
                       return sum(mul(x[0], x[0]), {0, 2}, true);
                     }});
  c.push_back(OpCase{"mean_axis", {Shape{2, 3, 4}}, [](auto& x) { return mean(exp(x[0]), {-1}); }});
  c.push_back(
      OpCase{"amax_axis", {Shape{3, 5}}, [](auto& x) { return amax(mul(x[0], x[0]), {1}); }});
  c.push_back(OpCase{"amin_all", {Shape{3, 5}}, [](auto& x) { return amin(mul(x[0], x[0])); }});
  c.push_back(OpCase{"expand", {Shape{3, 1}}, [](auto& x) {
                       return mul(expand(x[0], Shape{2, 3, 4}), expand(x[0], Shape{2, 3, 4}));
                     }});
  c.push_back(OpCase{"sum_to", {Shape{2, 3, 4}}, [](auto& x) {
                       return sum_to(mul(x[0], x[0]), Shape{3, 1});
                     }});
  c.push_back(
      OpCase{"reshape", {Shape{2, 6}}, [](auto& x) {
               return mul(reshape(x[0], Shape{3, 4}), reshape(x[0], std::vector<int64_t>{3, -1}));
             }});
  c.push_back(OpCase{"permute", {Shape{2, 3, 4}}, [](auto& x) {
                       return mul(permute(x[0], {2, 0, 1}), permute(x[0], {2, 0, 1}));
                     }});
  c.push_back(OpCase{"slice_channels", {Shape{2, 3, 7}}, [](auto& x) {
                       return mul(slice(x[0], -1, 2, 5), slice(x[0], 2, 1, 4));
                     }});
  c.push_back(
      OpCase{"pad_axis", {Shape{2, 3}}, [](auto& x) { return exp(pad_axis(x[0], 1, 2, 6)); }});
  c.push_back(OpCase{"concat", {Shape{2, 3}, Shape{2, 2}}, [](auto& x) {
                       return tanh(concat({x[0], x[1], x[0]}, 1));
                     }});
  c.push_back(OpCase{
      "matmul", {Shape{3, 4}, Shape{4, 2}}, [](auto& x) { return tanh(matmul(x[0], x[1])); }});
  c.push_back(OpCase{"matmul_ta", {Shape{4, 3}, Shape{4, 2}}, [](auto& x) {
                       return tanh(matmul(x[0], x[1], true, false));
                     }});
  c.push_back(OpCase{"matmul_tb", {Shape{3, 4}, Shape{2, 4}}, [](auto& x) {
                       return tanh(matmul(x[0], x[1], false, true));
                     }});
  c.push_back(OpCase{"matmul_tab", {Shape{4, 3}, Shape{2, 4}}, [](auto& x) {
                       return tanh(matmul(x[0], x[1], true, true));
                     }});
  c.push_back(OpCase{"softmax", {Shape{3, 5}}, [](auto& x) { return mul(softmax(x[0]), x[0]); }});
  c.push_back(
      OpCase{"log_softmax", {Shape{3, 5}}, [](auto& x) { return mul(log_softmax(x[0]), x[0]); }});
  c.push_back(OpCase{
      "gather_last", {Shape{3, 4}}, [](auto& x) {
        return mul(gather_last(x[0], labels({1, 3, 0})), gather_last(x[0], labels({1, 3, 0})));
      }});
  c.push_back(OpCase{"scatter_last", {Shape{3}}, [](auto& x) {
                       return exp(scatter_last(x[0], labels({2, 0, 2}), 4));
                     }});
  c.push_back(OpCase{"take", {Shape{5}}, [](auto& x) {
                       return exp(take(x[0], Tensor::from_ints({4, 0, 4, 2, 1, 1}, Shape{2, 3})));
                     }});
  c.push_back(
      OpCase{"index_add", {Shape{2, 3}}, [](auto& x) {
               return exp(index_add(x[0], Tensor::from_ints({4, 0, 4, 2, 1, 1}, Shape{2, 3}), 5));
             }});
  c.push_back(OpCase{"cross_entropy", {Shape{4, 5}}, [](auto& x) {
                       return cross_entropy(x[0], labels({1, 4, 0, 2}));
                     }});
  c.push_back(OpCase{"soft_assign",
                     {Shape{2, 3}, Shape{4}},
                     [](auto& x) { return soft_assign(x[0], x[1]); },
                     0,
                     3});
  c.push_back(OpCase{"batch_norm_train", {Shape{3, 2, 2, 3}, Shape{3}, Shape{3}}, [](auto& x) {
                       return mul(batch_norm_train(x[0], x[1], x[2], 1e-3), x[0]);
                     }});
  c.push_back(OpCase{"batch_norm_eval", {Shape{2, 2, 3}, Shape{3}, Shape{3}}, [](auto& x) {
                       Tensor rm = Tensor::from_vector({0.1, -0.2, 0.3}, Shape{3}, DType::F64);
                       Tensor rv = Tensor::from_vector({0.5, 1.5, 2.0}, Shape{3}, DType::F64);
                       return tanh(batch_norm_eval(x[0], x[1], x[2], rm, rv, 1e-3));
                     }});
  c.push_back(OpCase{
      "global_avg_pool", {Shape{2, 3, 5, 2}}, [](auto& x) { return exp(global_avg_pool(x[0])); }});
  c.push_back(OpCase{"adaptive_avg_pool_7_to_3", {Shape{2, 7, 5, 2}}, [](auto& x) {
                       return exp(adaptive_avg_pool(x[0], 3));
                     }});
  // conv2d geometries: (x shape, w shape, options)
  struct ConvCase {
    const char* name;
    Shape x, w;
    Conv2dOptions o;
  };
  std::vector<ConvCase> convs = {
      {"conv3x3_same", Shape{2, 5, 6, 3}, Shape{3, 3, 3, 4}, conv_opt(1, 1, 1, true)},
      {"conv3x3_stride2_same_odd", Shape{1, 7, 5, 2}, Shape{3, 3, 2, 3}, conv_opt(2, 1, 1, true)},
      {"conv3x3_stride3_valid", Shape{2, 8, 7, 2}, Shape{3, 3, 2, 2}, conv_opt(3, 1, 1, false)},
      {"conv3x3_dilation2_pad2", Shape{1, 7, 7, 2}, Shape{3, 3, 2, 3}, conv_opt(1, 2, 1, false, 2)},
      {"conv1x1", Shape{2, 3, 4, 5}, Shape{1, 1, 5, 3}, conv_opt(1, 1, 1, false)},
      {"conv2x3_kernel_pad1", Shape{1, 5, 6, 2}, Shape{2, 3, 2, 2}, conv_opt(1, 1, 1, false, 1)},
      {"depthwise3x3_same", Shape{2, 5, 5, 4}, Shape{3, 3, 1, 4}, conv_opt(1, 1, 4, true)},
      {"depthwise3x3_stride2_mult2", Shape{1, 7, 6, 3}, Shape{3, 3, 1, 6}, conv_opt(2, 1, 3, true)},
      {"depthwise3x3_stride3_dil2", Shape{1, 9, 9, 2}, Shape{3, 3, 1, 2}, conv_opt(3, 2, 2, true)},
      {"grouped_conv", Shape{1, 4, 5, 4}, Shape{3, 3, 2, 6}, conv_opt(1, 1, 2, true)},
  };
  for (auto& cc : convs) {
    Conv2dOptions o = cc.o;
    c.push_back(OpCase{std::string("conv2d_") + cc.name, {cc.x, cc.w}, [o](auto& x) {
                         return conv2d(x[0], x[1], o);
                       }});
    // The fused conv + bias op.
    c.push_back(OpCase{std::string("conv2d_bias_") + cc.name,
                       {cc.x, cc.w, Shape{cc.w[3]}},
                       [o](auto& x) { return conv2d(x[0], x[1], x[2], o); }});
    // The gradient ops as ops of their own (their inputs: dy and w / x and dy).
    Tensor probe = conv2d(Tensor::zeros(cc.x, DType::F64), Tensor::zeros(cc.w, DType::F64), o);
    Shape xs = cc.x, ws = cc.w;
    c.push_back(OpCase{std::string("conv2d_input_grad_") + cc.name,
                       {probe.shape(), cc.w},
                       [o, xs](auto& x) { return conv2d_input_grad(x[0], x[1], xs, o); }});
    c.push_back(OpCase{std::string("conv2d_weight_grad_") + cc.name,
                       {cc.x, probe.shape()},
                       [o, ws](auto& x) { return conv2d_weight_grad(x[0], x[1], ws, o); }});
  }
  return c;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(ops_gradcheck)

BOOST_DATA_TEST_CASE(first_and_second_order, boost::unit_test::data::xrange(int(op_cases().size())),
                     i) {
  static const std::vector<OpCase> cases = op_cases();
  const OpCase& c = cases[size_t(i)];
  BOOST_TEST_CONTEXT("op " << c.name) {
    Rng rng(1000 + uint64_t(i));
    std::vector<Tensor> xs;
    for (auto& s : c.shapes) xs.push_back(input(s, rng, c.lo, c.hi));
    GradcheckResult r1 = gradcheck(c.fn, xs);
    BOOST_TEST(r1.ok, c.name << " first order: " << r1.message);
    if (c.second_order) {
      GradcheckResult r2 = gradgradcheck(c.fn, xs);
      BOOST_TEST(r2.ok, c.name << " second order: " << r2.message);
    }
  }
}

BOOST_AUTO_TEST_CASE(gradcheck_catches_a_wrong_rule) {
  // A deliberately wrong composite (sign flipped through stop_gradient) must fail the check.
  TensorFn wrong = [](const std::vector<Tensor>& x) {
    return add(stop_gradient(mul(x[0], x[0])), mul(x[0], -1.0));  // value x^2 - x, gradient -1
  };
  Rng rng(3);
  Tensor x = input(Shape{4}, rng, -1, 1);
  BOOST_TEST(!gradcheck(wrong, {x}).ok);
}

BOOST_AUTO_TEST_CASE(soft_to_hard_is_nearest_forward_soft_backward) {
  Rng rng(21);
  Tensor x = rand_uniform(Shape{3, 5}, rng, 0, 6, DType::F64).set_requires_grad(true);
  Tensor c =
      Tensor::from_vector({0.5, 2.0, 3.5, 5.5}, Shape{4}, DType::F64).set_requires_grad(true);
  Tensor idx;
  Tensor y = quantize_soft_to_hard(x, c, &idx);
  auto xv = x.to_vector(), yv = y.to_vector(), cv = c.to_vector();
  for (size_t i = 0; i < xv.size(); ++i) {
    double best = 1e9;
    for (double cc : cv) best = std::min(best, std::fabs(xv[i] - cc));
    BOOST_TEST(std::fabs(yv[i] - xv[i]) == best);
    BOOST_TEST(cv[size_t(idx.to_vector()[i])] == yv[i]);
  }
  Tensor v = randn(Shape{3, 5}, rng, DType::F64);
  auto fused = agilenn::ag::grad({y}, {x, c}, {v}, false, 1);       // fused kernel
  auto soft = agilenn::ag::grad({soft_assign(x, c)}, {x, c}, {v});  // the soft path itself
  auto rec = agilenn::ag::grad({quantize_soft_to_hard(x, c)}, {x, c}, {v}, true);  // recorded rule
  for (int k = 0; k < 2; ++k) {
    BOOST_TEST(fused[size_t(k)].to_vector() == soft[size_t(k)].to_vector(),
               boost::test_tools::tolerance(1e-12) << boost::test_tools::per_element());
    BOOST_TEST(rec[size_t(k)].to_vector() == soft[size_t(k)].to_vector(),
               boost::test_tools::tolerance(1e-12) << boost::test_tools::per_element());
  }
}

// The float kernel runs in element tiles with its own exp: an odd length exercises the ragged
// tile, and values across [0, 6] exercise exp over its whole range.
BOOST_AUTO_TEST_CASE(soft_to_hard_float_kernel_matches_soft_path) {
  Rng rng(22);
  Tensor x = rand_uniform(Shape{7, 143}, rng, 0, 6, DType::F32).set_requires_grad(true);
  Tensor c = Tensor::from_vector({0.2, 0.9, 1.7, 2.4, 3.1, 3.9, 4.8, 5.9}, Shape{8}, DType::F32)
                 .set_requires_grad(true);
  Tensor v = randn(Shape{7, 143}, rng, DType::F32);
  auto fused = agilenn::ag::grad({quantize_soft_to_hard(x, c)}, {x, c}, {v}, false, 1);
  auto soft = agilenn::ag::grad({soft_assign(x, c)}, {x, c}, {v});
  BOOST_TEST(fused[0].to_vector() == soft[0].to_vector(), boost::test_tools::tolerance(2e-4)
                                                              << boost::test_tools::per_element());
  const auto fc = fused[1].to_vector(), sc = soft[1].to_vector();
  for (size_t j = 0; j < fc.size(); ++j)
    BOOST_TEST(std::fabs(fc[j] - sc[j]) < 1e-3 * (1 + std::fabs(sc[j])));
}

BOOST_AUTO_TEST_CASE(cast_gradient_crosses_dtypes) {
  Tensor x = Tensor::from_vector({1.5, -2.0}, Shape{2}, DType::F64).set_requires_grad();
  Tensor y = cast(mul(cast(x, DType::F32), 3.0), DType::F64);
  auto g = agilenn::ag::grad({sum(y)}, {x});
  BOOST_TEST((g[0].dtype() == DType::F64));
  BOOST_TEST(g[0].to_vector() == std::vector<double>({3.0, 3.0}));
}

BOOST_AUTO_TEST_CASE(forward_values) {
  Tensor x = Tensor::from_vector({1, 2, 3, 4, 5, 6}, Shape{2, 3}, DType::F64);
  BOOST_TEST(sum(x, {0}).to_vector() == std::vector<double>({5, 7, 9}));
  BOOST_TEST(amax(x, {1}).to_vector() == std::vector<double>({3, 6}));
  BOOST_TEST(permute(x, {1, 0}).to_vector() == std::vector<double>({1, 4, 2, 5, 3, 6}));
  BOOST_TEST(slice(x, 1, 1, 3).to_vector() == std::vector<double>({2, 3, 5, 6}));
  BOOST_TEST(argmin_last(x).to_vector() == std::vector<double>({0, 0}));
  BOOST_TEST(argmax_last(x).to_vector() == std::vector<double>({2, 2}));
  BOOST_TEST(matmul(x, x, false, true).to_vector() == std::vector<double>({14, 32, 32, 77}));
  // adaptive pooling cells on 5 -> 2: [0,3) and [2,5) overlap at 2
  Tensor p = Tensor::from_vector({1, 2, 3, 4, 5}, Shape{1, 5, 1, 1}, DType::F64);
  Tensor ones_w = Tensor::from_vector({1}, Shape{1, 1, 1, 1}, DType::F64);
  BOOST_TEST(conv2d(p, ones_w).to_vector() == std::vector<double>({1, 2, 3, 4, 5}));
  Tensor q = adaptive_avg_pool(
      reshape(Tensor::from_vector({1, 2, 3, 4, 5, 1, 2, 3, 4, 5}, Shape{1, 5, 2, 1}, DType::F64),
              Shape{1, 5, 2, 1}),
      2);
  BOOST_TEST(q.shape() == (Shape{1, 2, 2, 1}));
  // rows [0,3) x col [0,1) of [[1,2],[3,4],[5,1],[2,3],[4,5]]: (1+3+5)/3; rows [2,5): (5+2+4)/3
  BOOST_CHECK_CLOSE(q.to_vector()[0], 3.0, 1e-12);
  BOOST_CHECK_CLOSE(q.to_vector()[2], 11.0 / 3.0, 1e-12);
  // 'same' conv keeps the size; stride 2 on 7 gives 4
  Tensor x7 = Tensor::zeros(Shape{1, 7, 7, 1}, DType::F64);
  Tensor w3 = Tensor::zeros(Shape{3, 3, 1, 1}, DType::F64);
  BOOST_TEST(conv2d(x7, w3, conv_opt(2, 1, 1, true)).shape() == (Shape{1, 4, 4, 1}));
  BOOST_TEST(conv2d(x7, w3, conv_opt(1, 1, 1, false)).shape() == (Shape{1, 5, 5, 1}));
}

BOOST_AUTO_TEST_SUITE_END()
