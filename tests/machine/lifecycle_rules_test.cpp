// The transition table on its own: every operation against every state.
#include <gtest/gtest.h>

#include <set>
#include <utility>

#include "machine/lifecycle_rules.hpp"
#include "vmm/virtual_machine.hpp"

namespace vmm::detail {
namespace {

constexpr VmState kAllStates[] = {VmState::stopped,  VmState::starting, VmState::running,
                                  VmState::pausing,  VmState::paused,   VmState::resuming,
                                  VmState::stopping, VmState::saving,   VmState::restoring,
                                  VmState::error};
constexpr Operation kAllOperations[] = {Operation::start, Operation::pause,
                                        Operation::resume, Operation::stop,
                                        Operation::request_stop, Operation::save,
                                        Operation::restore};

TEST(LifecycleRules, AllowedStatesFollowVirtualizationFramework) {
  const std::set<std::pair<Operation, VmState>> allowed = {
      {Operation::start, VmState::stopped},       {Operation::start, VmState::error},
      {Operation::pause, VmState::running},       {Operation::resume, VmState::paused},
      {Operation::stop, VmState::running},        {Operation::stop, VmState::paused},
      {Operation::request_stop, VmState::running}, {Operation::save, VmState::paused},
      {Operation::restore, VmState::stopped},     {Operation::restore, VmState::error},
  };
  for (auto operation : kAllOperations) {
    for (auto state : kAllStates) {
      EXPECT_EQ(allowed_from(operation, state), allowed.count({operation, state}) == 1)
          << to_string(operation) << " from " << to_string(state);
    }
  }
}

TEST(LifecycleRules, TransitionalAndFinalStates) {
  struct Expected {
    Operation operation;
    VmState from, during, success, failure;
  };
  const Expected table[] = {
      {Operation::start, VmState::stopped, VmState::starting, VmState::running, VmState::error},
      {Operation::pause, VmState::running, VmState::pausing, VmState::paused, VmState::error},
      {Operation::resume, VmState::paused, VmState::resuming, VmState::running, VmState::error},
      {Operation::stop, VmState::paused, VmState::stopping, VmState::stopped, VmState::error},
      {Operation::request_stop, VmState::running, VmState::running, VmState::running,
       VmState::running},
      {Operation::save, VmState::paused, VmState::saving, VmState::paused, VmState::paused},
      {Operation::restore, VmState::error, VmState::restoring, VmState::paused, VmState::stopped},
  };
  for (const auto& row : table) {
    const auto rule = rule_for(row.operation, row.from);
    EXPECT_EQ(rule.during, row.during) << to_string(row.operation);
    EXPECT_EQ(rule.on_success, row.success) << to_string(row.operation);
    EXPECT_EQ(rule.on_failure, row.failure) << to_string(row.operation);
  }
}

TEST(LifecycleRules, MessagesNameTheOperationAndTheState) {
  EXPECT_EQ(not_allowed_message(Operation::pause, VmState::stopped),
            "pause: not allowed while the VM is stopped");
  EXPECT_EQ(busy_message(Operation::stop, Operation::start, VmState::starting),
            "stop: not allowed while start is in flight (the VM is starting)");
}

TEST(LifecycleRules, EveryStateHasAName) {
  std::set<std::string_view> names;
  for (auto state : kAllStates) names.insert(to_string(state));
  EXPECT_EQ(names.size(), std::size(kAllStates));
  EXPECT_EQ(to_string(VmState::restoring), "restoring");
  EXPECT_EQ(to_string(Backend::virtualization_framework), "virtualization_framework");
  EXPECT_EQ(to_string(Acceleration::tcg), "tcg");
}

}  // namespace
}  // namespace vmm::detail
