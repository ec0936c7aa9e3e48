#include "template_fixture.hpp"

#include <chrono>
#include <thread>

namespace vmm::testing {

using namespace std::chrono_literals;

MadeTemplate make_template(const GuestAssets& assets, const std::filesystem::path& bundle) {
  MadeTemplate made;
  auto fail = [&](std::string what) {
    made.failure = std::move(what);
    return made;
  };
  GuestConsole console;
  auto config = guest_config(assets).nat_network().build();
  if (!config) return fail(config.error().to_string());
  auto options = guest_create_options(console);
  options.file_backed_memory = true;
  auto vm = VirtualMachine::create(*config, options);
  if (!vm) return fail(vm.error().to_string());
  if (auto started = (*vm)->start().get(); !started) return fail(started.error().to_string());
  if (!console.wait_counter_above(2, 180s)) return fail("the template did not boot");
  if (auto paused = (*vm)->pause().get(); !paused) return fail(paused.error().to_string());
  std::this_thread::sleep_for(300ms);  // counter lines in flight arrive
  made.saved_at = console.last_counter();
  if (auto saved = (*vm)->save_template(bundle).get(); !saved) {
    return fail("save_template: " + saved.error().to_string());
  }
  if ((*vm)->state() != VmState::paused) return fail("the template VM is not paused after save");
  if (auto stopped = (*vm)->stop().get(); !stopped) return fail(stopped.error().to_string());
  return made;
}

}  // namespace vmm::testing
