// vmm vz: the run-time devices of a running VZVirtualMachine (see machine_devices.h).
#import "vz/objc/machine_devices.h"

#import "vz/objc/objc_support.h"
#import "vz/objc/vm_queue.h"

#include <string>
#include <utility>

namespace vmm::vz {

namespace {

API_AVAILABLE(macos(13.0))
VZVirtioTraditionalMemoryBalloonDevice* _Nullable balloon_device(VZVirtualMachine* machine) {
  for (VZMemoryBalloonDevice* device in machine.memoryBalloonDevices) {
    if ([device isKindOfClass:[VZVirtioTraditionalMemoryBalloonDevice class]]) {
      return (VZVirtioTraditionalMemoryBalloonDevice*)device;
    }
  }
  return nil;
}

Error no_balloon(const char* what) {
  return Error(Errc::unsupported, std::string(what) + ": this VM has no memory balloon device");
}

}  // namespace

VZVirtioSocketDevice* _Nullable socket_device(VZVirtualMachine* machine) {
  for (VZSocketDevice* device in machine.socketDevices) {
    if ([device isKindOfClass:[VZVirtioSocketDevice class]]) return (VZVirtioSocketDevice*)device;
  }
  return nil;
}

void set_balloon_target_on_queue(dispatch_queue_t queue, VZVirtualMachine* machine,
                                 std::uint64_t bytes, detail::Engine::Done finish) {
  objc::on_queue(
      queue, "set_memory_target",
      ^{
        VZVirtioTraditionalMemoryBalloonDevice* device = balloon_device(machine);
        if (device == nil) {
          finish(no_balloon("set_memory_target"));
          return;
        }
        device.targetVirtualMachineMemorySize = bytes;
        finish(Result<void>{});
      },
      [finish](Error error) { finish(std::move(error)); });
}

void read_balloon_on_queue(dispatch_queue_t queue, VZVirtualMachine* machine,
                           std::shared_ptr<Result<MemoryBalloonInfo>> info,
                           detail::Engine::Done finish) {
  objc::on_queue(
      queue, "memory_balloon",
      ^{
        VZVirtioTraditionalMemoryBalloonDevice* device = balloon_device(machine);
        if (device == nil) {
          *info = no_balloon("memory_balloon");
        } else {
          *info = MemoryBalloonInfo{Size::bytes(device.targetVirtualMachineMemorySize),
                                    std::nullopt};
        }
        finish(Result<void>{});
      },
      [info, finish](Error error) {
        *info = std::move(error);
        finish(Result<void>{});
      });
}

}  // namespace vmm::vz
