// Recursive networks over trees (recur/models/tree_rnn.h): the forest (nodes ordered by height),
// the embedding, the bottom-up loop over heights, the readout; the compositions are in
// tree_recursive.cpp and tree_lstm.cpp.
#include "recur/models/tree_rnn.h"

#include <algorithm>
#include <cmath>

#include "models/tree_cells.h"
#include "recur/core/enum_names.h"
#include "recur/core/error.h"
#include "recur/core/gemm.h"
#include "recur/io/metadata.h"

namespace recur {

constexpr EnumNames<TreeCell, 3> kTreeCellNames{{{TreeCell::recursive, "recursive"},
                                                 {TreeCell::tree_lstm, "tree_lstm"},
                                                 {TreeCell::binary_lstm, "binary_lstm"}}};

const char* tree_cell_name(TreeCell c) { return enum_name(kTreeCellNames, c); }
TreeCell parse_tree_cell(const std::string& name) {
  return parse_enum(kTreeCellNames, name, "tree cell");
}

Forest make_forest(const std::vector<const TokenTree*>& trees, int64_t vocab) {
  // Global ids in input order first, with heights; then a stable sort by height.
  std::vector<int64_t> height, token, first;
  std::vector<std::vector<int64_t>> kids;
  std::vector<int64_t> roots;
  for (size_t t = 0; t < trees.size(); ++t) {
    const TokenTree& tr = *trees[t];
    const int64_t n = int64_t(tr.token.size()), base = int64_t(token.size());
    RECUR_CHECK(n > 0 && tr.children.size() == tr.token.size(),
                "tree " << t << " has " << n << " tokens and " << tr.children.size() << " child lists");
    for (int64_t i = 0; i < n; ++i) {
      const int tok = tr.token[size_t(i)];
      RECUR_CHECK(tok >= 0 && tok < vocab,
                  "tree " << t << ", node " << i << ": token " << tok << " is outside [0, " << vocab << ")");
      int64_t h = 0;
      std::vector<int64_t> ch;
      for (int64_t k : tr.children[size_t(i)]) {
        RECUR_CHECK(k >= 0 && k < i, "tree " << t << ", node " << i << ": child " << k
                                             << " does not come before it (nodes must be in post-order)");
        h = std::max(h, height[size_t(base + k)] + 1);
        ch.push_back(base + k);
      }
      height.push_back(h);
      token.push_back(tok);
      kids.push_back(std::move(ch));
    }
    roots.push_back(base + n - 1);
  }
  const int64_t N = int64_t(token.size());
  std::vector<int64_t> order(static_cast<size_t>(N)), new_id(static_cast<size_t>(N));
  for (int64_t i = 0; i < N; ++i) order[size_t(i)] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return height[size_t(a)] < height[size_t(b)]; });
  for (int64_t i = 0; i < N; ++i) new_id[size_t(order[size_t(i)])] = i;
  Forest f;
  f.child_start.push_back(0);
  for (int64_t i = 0; i < N; ++i) {
    const int64_t old = order[size_t(i)];
    f.token.push_back(token[size_t(old)]);
    for (int64_t k : kids[size_t(old)]) {
      f.child.push_back(new_id[size_t(k)]);
      f.parent.push_back(i);
    }
    f.child_start.push_back(int64_t(f.child.size()));
    if (i == 0 || height[size_t(old)] != height[size_t(order[size_t(i - 1)])]) f.level_start.push_back(i);
  }
  f.level_start.push_back(N);
  for (int64_t r : roots) f.roots.push_back(new_id[size_t(r)]);
  return f;
}

void TreeRnnConfig::validate() const {
  RECUR_CHECK(vocab > 0 && embed > 0 && hidden > 0 && classes > 0,
              "TreeRnnConfig: vocab, embed, hidden and classes must be positive, got " << vocab << ", "
                                                                                      << embed << ", " << hidden
                                                                                      << ", " << classes);
}

std::map<std::string, std::string> TreeRnnConfig::to_metadata() const {
  return {{"tree_cell", tree_cell_name(cell)},   {"vocab", std::to_string(vocab)},
          {"embed", std::to_string(embed)},      {"hidden", std::to_string(hidden)},
          {"classes", std::to_string(classes)}};
}

TreeRnnConfig TreeRnnConfig::from_metadata(const std::map<std::string, std::string>& m) {
  TreeRnnConfig c;
  c.cell = parse_tree_cell(metadata_string(m, "tree_cell", "tree model"));
  c.vocab = metadata_int(m, "vocab", "tree model");
  c.embed = metadata_int(m, "embed", "tree model");
  c.hidden = metadata_int(m, "hidden", "tree model");
  c.classes = metadata_int(m, "classes", "tree model");
  c.validate();
  return c;
}

template <class T>
TreeRnn<T>::TreeRnn(const TreeRnnConfig& cfg) : config(cfg) {
  cfg.validate();
  const int64_t V = cfg.vocab, D = cfg.embed, H = cfg.hidden, C = cfg.classes;
  embedding = Tensor<T>({V, D});
  switch (cfg.cell) {
    case TreeCell::recursive:
      w = Tensor<T>({H, D});
      u = Tensor<T>({H, H});
      b = Tensor<T>({H});
      break;
    case TreeCell::tree_lstm:
      w = Tensor<T>({4 * H, D});
      u = Tensor<T>({3 * H, H});
      u_f = Tensor<T>({H, H});
      b = Tensor<T>({4 * H});
      break;
    case TreeCell::binary_lstm:
      w = Tensor<T>({5 * H, D});
      u = Tensor<T>({3 * H, 2 * H});
      u_f = Tensor<T>({2 * H, 2 * H});
      b = Tensor<T>({5 * H});
      break;
  }
  w_out = Tensor<T>({C, H});
  b_out = Tensor<T>({C});
}

template <class T>
void init_tree_rnn(TreeRnn<T>& m, Rng& rng) {
  const TreeRnnConfig& c = m.config;
  for (auto& v : m.embedding.data) v = T(rng.normal());
  auto uniform = [&](Tensor<T>& t, int64_t fan_in) {
    const double a = 1.0 / std::sqrt(double(fan_in));
    for (auto& v : t.data) v = T(rng.uniform(-a, a));
  };
  uniform(m.w, c.embed);
  uniform(m.u, m.u.dim(1));
  if (c.cell != TreeCell::recursive) uniform(m.u_f, m.u_f.dim(1));
  m.b.fill(T(0));
  if (c.cell != TreeCell::recursive)  // forget gates start at sigmoid(1)
    for (int64_t j = 3 * c.hidden; j < m.b.numel(); ++j) m.b[j] = T(1);
  uniform(m.w_out, c.hidden);
  uniform(m.b_out, c.hidden);
}

template <class T>
void tree_forward(Tensor<T>& logits, TreeCache<T>& c, const TreeRnn<T>& m, const Forest& f) {
  const TreeRnnConfig& cfg = m.config;
  const int64_t N = f.nodes(), E = f.edges(), D = cfg.embed, H = cfg.hidden, C = cfg.classes;
  const int64_t R = int64_t(f.roots.size());
  const bool lstm = cfg.cell != TreeCell::recursive, binary = cfg.cell == TreeCell::binary_lstm;
  c.x = Tensor<T>({N, D});
  for (int64_t n = 0; n < N; ++n) {
    const int64_t tok = f.token[size_t(n)];
    RECUR_CHECK(tok >= 0 && tok < cfg.vocab, "node " << n << ": token " << tok << " outside the vocabulary");
    std::copy_n(m.embedding.ptr() + tok * D, D, c.x.ptr() + n * D);
  }
  c.hs = Tensor<T>({N, (binary ? 2 : 1) * H});
  c.h = Tensor<T>({N, H});
  c.c = lstm ? Tensor<T>({N, H}) : Tensor<T>();
  c.gates = lstm ? Tensor<T>({N, 3 * H}) : Tensor<T>();
  c.f = binary ? Tensor<T>({N, 2 * H}) : lstm ? Tensor<T>({E, H}) : Tensor<T>();
  for (size_t l = 0; l + 1 < f.level_start.size(); ++l) {
    const tree::Block blk{f.level_start[l], f.level_start[l + 1], f.child_start[size_t(f.level_start[l])],
                          f.child_start[size_t(f.level_start[l + 1])]};
    // hs: the children's h summed, or (binary) placed side by side.
    for (int64_t e = blk.ea; e < blk.eb; ++e) {
      const int64_t p = f.parent[size_t(e)], slot = binary ? e - f.child_start[size_t(p)] : 0;
      RECUR_CHECK(slot < 2, "node " << p << " has more than two children; binary_lstm needs binary trees");
      T* hs = c.hs.ptr() + p * (binary ? 2 : 1) * H + slot * H;
      const T* hk = c.h.ptr() + f.child[size_t(e)] * H;
      for (int64_t j = 0; j < H; ++j) hs[j] += hk[j];
    }
    if (binary) tree::binary_lstm_forward(c, m, f, blk);
    else if (lstm) tree::tree_lstm_forward(c, m, f, blk);
    else tree::recursive_forward(c, m, f, blk);
  }
  logits = Tensor<T>({R, C});
  for (int64_t r = 0; r < R; ++r) {
    const T* h = c.h.ptr() + f.roots[size_t(r)] * H;
    for (int64_t k = 0; k < C; ++k) {
      T s = m.b_out[k];
      for (int64_t j = 0; j < H; ++j) s += m.w_out[k * H + j] * h[j];
      logits[r * C + k] = s;
    }
  }
}

template <class T>
void tree_backward(TreeRnn<T>& g, const TreeCache<T>& c, const TreeRnn<T>& m, const Forest& f,
                   const Tensor<T>& dlogits) {
  const TreeRnnConfig& cfg = m.config;
  const int64_t N = f.nodes(), D = cfg.embed, H = cfg.hidden, C = cfg.classes;
  const int64_t R = int64_t(f.roots.size());
  RECUR_CHECK(dlogits.shape == Shape({R, C}),
              "tree_backward: dlogits has shape " << dlogits.shape_string() << ", expected " << shape_str({R, C}));
  const bool lstm = cfg.cell != TreeCell::recursive, binary = cfg.cell == TreeCell::binary_lstm;
  Tensor<T> dh({N, H}), dc = lstm ? Tensor<T>({N, H}) : Tensor<T>();
  for (int64_t r = 0; r < R; ++r) {
    const int64_t node = f.roots[size_t(r)];
    const T* h = c.h.ptr() + node * H;
    for (int64_t k = 0; k < C; ++k) {
      const T d = dlogits[r * C + k];
      g.b_out[k] += d;
      for (int64_t j = 0; j < H; ++j) {
        g.w_out[k * H + j] += d * h[j];
        dh[node * H + j] += d * m.w_out[k * H + j];
      }
    }
  }
  for (size_t l = f.level_start.size() - 1; l-- > 0;) {
    const tree::Block blk{f.level_start[l], f.level_start[l + 1], f.child_start[size_t(f.level_start[l])],
                          f.child_start[size_t(f.level_start[l + 1])]};
    const int64_t HS = (binary ? 2 : 1) * H;
    std::vector<T> dx(static_cast<size_t>(blk.rows() * D)), dhs(static_cast<size_t>(blk.rows() * HS));
    if (binary) tree::binary_lstm_backward(g, dx.data(), dhs.data(), dh, dc, c, m, f, blk);
    else if (lstm) tree::tree_lstm_backward(g, dx.data(), dhs.data(), dh, dc, c, m, f, blk);
    else tree::recursive_backward(g, dx.data(), dhs.data(), dh.ptr() + blk.a * H, c, m, f, blk);
    // Each child gets its parent's dhs (binary: the child's own slot of it).
    for (int64_t e = blk.ea; e < blk.eb; ++e) {
      const int64_t p = f.parent[size_t(e)], slot = binary ? e - f.child_start[size_t(p)] : 0;
      const T* d = dhs.data() + (p - blk.a) * HS + slot * H;
      T* dk = dh.ptr() + f.child[size_t(e)] * H;
      for (int64_t j = 0; j < H; ++j) dk[j] += d[j];
    }
    for (int64_t r = 0; r < blk.rows(); ++r) {
      T* de = g.embedding.ptr() + f.token[size_t(blk.a + r)] * D;
      for (int64_t j = 0; j < D; ++j) de[j] += dx[size_t(r * D + j)];
    }
  }
}

template struct TreeRnn<float>;
template struct TreeRnn<double>;
template void init_tree_rnn<float>(TreeRnn<float>&, Rng&);
template void init_tree_rnn<double>(TreeRnn<double>&, Rng&);
template void tree_forward<float>(Tensor<float>&, TreeCache<float>&, const TreeRnn<float>&, const Forest&);
template void tree_forward<double>(Tensor<double>&, TreeCache<double>&, const TreeRnn<double>&, const Forest&);
template void tree_backward<float>(TreeRnn<float>&, const TreeCache<float>&, const TreeRnn<float>&,
                                   const Forest&, const Tensor<float>&);
template void tree_backward<double>(TreeRnn<double>&, const TreeCache<double>&, const TreeRnn<double>&,
                                    const Forest&, const Tensor<double>&);

}  // namespace recur
