#import "vz/objc/objc_support.h"

#include "vz/vz_errors.hpp"

namespace vmm::vz::objc {

NSString* to_ns(std::string_view text) {
  return [[NSString alloc] initWithBytes:text.data()
                                  length:text.size()
                                encoding:NSUTF8StringEncoding];
}

std::string to_std(NSString* _Nullable text) {
  if (text == nil) return {};
  const char* utf8 = text.UTF8String;
  return utf8 != nullptr ? std::string(utf8) : std::string();
}

NSURL* file_url(const std::filesystem::path& path) {
  return [NSURL fileURLWithPath:to_ns(path.string()) isDirectory:NO];
}

NSURL* directory_url(const std::filesystem::path& path) {
  return [NSURL fileURLWithPath:to_ns(path.string()) isDirectory:YES];
}

Error error_from(NSError* _Nullable error, std::string_view context) {
  if (error == nil) {
    // VZ documents an error for every failure; a missing one is still a failure.
    return Error(Errc::backend, std::string(context) + ": failed without an error description");
  }
  return error_from_ns_error(to_std(error.domain), static_cast<long>(error.code),
                             to_std(error.localizedDescription), context);
}

Error error_from(NSException* exception, std::string_view context) {
  return error_from_exception(to_std(exception.name), to_std(exception.reason), context);
}

Result<void> result_from(NSError* _Nullable error, std::string_view context) {
  if (error == nil) return {};
  return error_from(error, context);
}

}  // namespace vmm::vz::objc
