#include "message/thread.h"

#include <algorithm>
#include <string_view>
#include <unordered_map>

namespace postern::message {
namespace {

constexpr int kNone = -1;

// Parent links the loop checks of one REFERENCES run may walk in all. Real
// mail needs few: a check only walks when the would-be child already has
// children of its own. Hostile References chains could otherwise make the
// checks quadratic in the number of ids.
constexpr uint64_t kMaxLoopCheckSteps = 4'000'000;

// How messages are ordered wherever RFC 5256 sorts by sent date: the date,
// then the order in the mailbox (§2.2).
struct DateKey {
  int64_t date = 0;
  size_t index = 0;
  bool operator<(const DateKey& other) const {
    return date != other.date ? date < other.date : index < other.index;
  }
};

DateKey KeyOf(const std::vector<ThreadMessage>& messages, size_t index) {
  return {messages[index].sent_date, index};
}

class ReferencesThreader {
 public:
  explicit ReferencesThreader(const std::vector<ThreadMessage>& messages) : messages_(messages) {}

  ThreadForest Run() {
    for (size_t i = 0; i < messages_.size(); ++i) Link(i);  // (1)
    Gather();                                               // (2)
    Prune();                                                // (3)
    SortSiblings(&roots_);                                  // (4)
    MergeBySubject();                                       // (5)
    SortAll();                                              // (6)
    return Output();
  }

 private:
  struct Node {
    int message = kNone;  // index into messages_; kNone for a dummy
    int parent = kNone;
    size_t child_count = 0;     // maintained during step (1)
    std::vector<int> children;  // built in step (2)
  };

  int NewNode(int message) {
    nodes_.push_back(Node{message});
    return static_cast<int>(nodes_.size() - 1);
  }
  bool IsDummy(int n) const { return nodes_[n].message == kNone; }

  // The node of a referenced id: its message, or a dummy made once for it.
  int NodeForId(std::string_view id) {
    auto [it, inserted] = ids_.try_emplace(id, kNone);
    if (inserted) it->second = NewNode(kNone);
    return it->second;
  }

  // The node of message `i` itself: (1)(A) a message without a valid
  // Message-ID, or whose id an earlier message has, gets a unique one.
  int OwnNode(size_t i) {
    const int message = static_cast<int>(i);
    const std::string& id = messages_[i].message_id;
    if (id.empty()) return NewNode(message);
    auto [it, inserted] = ids_.try_emplace(id, kNone);
    if (inserted) {
      it->second = NewNode(message);
    } else if (IsDummy(it->second)) {
      nodes_[it->second].message = message;  // referenced before it came
    } else {
      return NewNode(message);  // a duplicate
    }
    return it->second;
  }

  // True if `ancestor` is `node` or above it. Walks up from `node`; counts
  // against the budget, and answers true once it is spent.
  bool IsAncestorOrSelf(int ancestor, int node) {
    if (ancestor == node) return true;
    if (nodes_[ancestor].child_count == 0) return false;
    for (int n = nodes_[node].parent; n != kNone; n = nodes_[n].parent) {
      if (++loop_check_steps_ > kMaxLoopCheckSteps) return true;
      if (n == ancestor) return true;
    }
    return false;
  }

  // Makes `parent` the parent of the parentless `child`, unless that would
  // make a loop (the child above the parent).
  void LinkIfNoLoop(int parent, int child) {
    if (IsAncestorOrSelf(child, parent)) return;
    nodes_[child].parent = parent;
    ++nodes_[parent].child_count;
  }

  // Step (1) for message `i`.
  void Link(size_t i) {
    const int self = OwnNode(i);
    // (A) each reference the parent of the next, where the next has none.
    int previous = kNone;
    for (const std::string& id : messages_[i].references) {
      const int node = NodeForId(id);
      if (previous != kNone && nodes_[node].parent == kNone) LinkIfNoLoop(previous, node);
      previous = node;
    }
    // (B) the last reference is the parent, replacing any parent found so
    // far (a truncated References of another message may have set it).
    if (nodes_[self].parent != kNone) {
      --nodes_[nodes_[self].parent].child_count;
      nodes_[self].parent = kNone;
    }
    if (previous != kNone) LinkIfNoLoop(previous, self);
  }

  // Step (2): the children lists, and the parentless as the root's.
  void Gather() {
    for (size_t n = 0; n < nodes_.size(); ++n) {
      const int parent = nodes_[n].parent;
      if (parent == kNone) {
        roots_.push_back(static_cast<int>(n));
      } else {
        nodes_[parent].children.push_back(static_cast<int>(n));
      }
    }
  }

  // Every node under `tops`, each before its children.
  std::vector<int> PreOrder(const std::vector<int>& tops) const {
    std::vector<int> order;
    std::vector<int> stack(tops.rbegin(), tops.rend());
    while (!stack.empty()) {
      const int n = stack.back();
      stack.pop_back();
      order.push_back(n);
      const std::vector<int>& children = nodes_[n].children;
      stack.insert(stack.end(), children.rbegin(), children.rend());
    }
    return order;
  }

  // Step (3). Bottom-up, so a dummy's children are already pruned when it is
  // replaced by them.
  void Prune() {
    const std::vector<int> order = PreOrder(roots_);
    for (auto it = order.rbegin(); it != order.rend(); ++it) {
      std::vector<int> kept;
      for (int child : nodes_[*it].children) {
        if (IsDummy(child)) {
          const std::vector<int>& promoted = nodes_[child].children;
          kept.insert(kept.end(), promoted.begin(), promoted.end());
        } else {
          kept.push_back(child);
        }
      }
      for (int child : kept) nodes_[child].parent = *it;
      nodes_[*it].children = std::move(kept);
    }
    // At the top, a dummy stays unless it has a single child to promote.
    std::vector<int> roots;
    for (int root : roots_) {
      if (!IsDummy(root)) {
        roots.push_back(root);
        continue;
      }
      const std::vector<int>& children = nodes_[root].children;
      if (children.size() == 1) {
        nodes_[children.front()].parent = kNone;
        roots.push_back(children.front());
      } else if (children.size() > 1) {
        roots.push_back(root);
      }
    }
    roots_ = std::move(roots);
  }

  // The first message at or below `n` by first children: a dummy sorts and
  // takes its subject as its first child does.
  int Representative(int n) const {
    while (IsDummy(n) && !nodes_[n].children.empty()) n = nodes_[n].children.front();
    return n;
  }

  DateKey Key(int n) const {
    const int m = Representative(n);
    return IsDummy(m) ? DateKey{} : KeyOf(messages_, static_cast<size_t>(nodes_[m].message));
  }

  // Sorts `siblings` by sent date; a dummy among them has its own children
  // sorted first, so its first child is its key (steps 4 and 6).
  void SortSiblings(std::vector<int>* siblings) {
    for (int n : *siblings) {
      if (IsDummy(n)) SortByKey(&nodes_[n].children);
    }
    SortByKey(siblings);
  }

  void SortByKey(std::vector<int>* nodes) {
    std::sort(nodes->begin(), nodes->end(), [this](int a, int b) { return Key(a) < Key(b); });
  }

  const std::string& Subject(int n) const {
    static const std::string kEmpty;
    const int m = Representative(n);
    return IsDummy(m) ? kEmpty : messages_[nodes_[m].message].base_subject;
  }

  bool ReplyOrForward(int n) const {
    return !IsDummy(n) && messages_[nodes_[n].message].reply_or_forward;
  }

  void AddChild(int parent, int child) {
    nodes_[parent].children.push_back(child);
    nodes_[child].parent = parent;
  }

  // Step (5): threads of the same base subject merged.
  void MergeBySubject() {
    std::unordered_map<std::string_view, int> table;  // (A)
    for (int root : roots_) {                         // (B)
      const std::string& subject = Subject(root);
      if (subject.empty()) continue;
      auto [it, inserted] = table.try_emplace(subject, root);
      if (inserted) continue;
      const int old = it->second;
      if (!IsDummy(old) && (IsDummy(root) || (ReplyOrForward(old) && !ReplyOrForward(root)))) {
        it->second = root;
      }
    }
    std::vector<bool> at_root(nodes_.size(), false);
    for (int root : roots_) at_root[root] = true;
    const std::vector<int> roots = roots_;
    for (int root : roots) {  // (C)
      if (!at_root[root]) continue;
      const std::string& subject = Subject(root);
      if (subject.empty()) continue;
      auto it = table.find(subject);
      const int other = it->second;
      if (other == root) continue;
      at_root[root] = false;
      if (IsDummy(other) && IsDummy(root)) {
        for (int child : nodes_[root].children) AddChild(other, child);
        nodes_[root].children.clear();
      } else if (IsDummy(other) || (ReplyOrForward(root) && !ReplyOrForward(other))) {
        AddChild(other, root);
      } else {
        const int dummy = NewNode(kNone);
        at_root.push_back(true);
        at_root[other] = false;
        AddChild(dummy, other);
        AddChild(dummy, root);
        it->second = dummy;
        roots_.push_back(dummy);
      }
    }
    std::erase_if(roots_, [&](int n) { return !at_root[n]; });
    for (int root : roots_) nodes_[root].parent = kNone;
  }

  // Step (6): every set of siblings by sent date, the deepest first.
  void SortAll() {
    const std::vector<int> order = PreOrder(roots_);
    for (auto it = order.rbegin(); it != order.rend(); ++it) SortByKey(&nodes_[*it].children);
    SortByKey(&roots_);
  }

  ThreadForest Output() const {
    ThreadForest forest;
    std::vector<size_t> index(nodes_.size());
    const std::vector<int> order = PreOrder(roots_);
    for (int n : order) {
      index[n] = forest.nodes.size();
      const int message = nodes_[n].message;
      forest.nodes.push_back({message == kNone ? 0 : messages_[message].number, {}});
    }
    for (int n : order) {
      for (int child : nodes_[n].children) forest.nodes[index[n]].children.push_back(index[child]);
    }
    for (int root : roots_) forest.roots.push_back(index[root]);
    return forest;
  }

  const std::vector<ThreadMessage>& messages_;
  std::vector<Node> nodes_;
  std::unordered_map<std::string_view, int> ids_;
  std::vector<int> roots_;
  uint64_t loop_check_steps_ = 0;
};

}  // namespace

ThreadForest ThreadByOrderedSubject(const std::vector<ThreadMessage>& messages) {
  std::vector<size_t> order(messages.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const int c = messages[a].base_subject.compare(messages[b].base_subject);
    return c != 0 ? c < 0 : KeyOf(messages, a) < KeyOf(messages, b);
  });
  // Each thread: its first message, the others its children in date order.
  std::vector<std::pair<size_t, size_t>> threads;  // [begin, end) in `order`
  for (size_t begin = 0, end; begin < order.size(); begin = end) {
    end = begin + 1;
    while (end < order.size() &&
           messages[order[end]].base_subject == messages[order[begin]].base_subject) {
      ++end;
    }
    threads.emplace_back(begin, end);
  }
  std::sort(threads.begin(), threads.end(), [&](const auto& a, const auto& b) {
    return KeyOf(messages, order[a.first]) < KeyOf(messages, order[b.first]);
  });
  ThreadForest forest;
  forest.nodes.reserve(messages.size());
  for (const auto& [begin, end] : threads) {
    const size_t root = forest.nodes.size();
    forest.roots.push_back(root);
    forest.nodes.push_back({messages[order[begin]].number, {}});
    for (size_t i = begin + 1; i < end; ++i) {
      forest.nodes[root].children.push_back(forest.nodes.size());
      forest.nodes.push_back({messages[order[i]].number, {}});
    }
  }
  return forest;
}

ThreadForest ThreadByReferences(const std::vector<ThreadMessage>& messages) {
  return ReferencesThreader(messages).Run();
}

std::string FormatThreads(const ThreadForest& forest) {
  // thread-list = "(" (thread-members / thread-nested) ")": a run of single
  // children as numbers, then, where the thread splits, a list per child.
  std::string out;
  struct Item {
    size_t node;
    bool close;  // only the ")" of a list whose children were pushed
  };
  std::vector<Item> stack;
  for (auto it = forest.roots.rbegin(); it != forest.roots.rend(); ++it)
    stack.push_back({*it, false});
  while (!stack.empty()) {
    const Item item = stack.back();
    stack.pop_back();
    if (item.close) {
      out.push_back(')');
      continue;
    }
    out.push_back('(');
    size_t n = item.node;
    bool first = true;
    while (true) {
      const ThreadForest::Node& node = forest.nodes[n];
      if (node.number != 0) {
        if (!first) out.push_back(' ');
        out += std::to_string(node.number);
        first = false;
      }
      if (node.children.size() == 1 && node.number != 0) {
        n = node.children.front();
        continue;
      }
      if (node.children.empty()) {
        out.push_back(')');
      } else {
        if (!first) out.push_back(' ');
        stack.push_back({0, true});
        for (auto it = node.children.rbegin(); it != node.children.rend(); ++it) {
          stack.push_back({*it, false});
        }
      }
      break;
    }
  }
  return out;
}

}  // namespace postern::message
