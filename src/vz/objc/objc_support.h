// vmm vz (Objective-C++ only): conversions between Foundation and C++ types, and NSError /
// NSException -> vmm::Error through the portable mapping in vz_errors.hpp.
#pragma once

#import <Foundation/Foundation.h>

#include <filesystem>
#include <string>
#include <string_view>

#include "vmm/error.hpp"

NS_ASSUME_NONNULL_BEGIN

namespace vmm::vz::objc {

NSString* to_ns(std::string_view text);
std::string to_std(NSString* _Nullable text);
NSURL* file_url(const std::filesystem::path& path);
NSURL* directory_url(const std::filesystem::path& path);

// "<context>: <description> (VZErrorDomain 5: invalid disk image)", classified by domain/code.
Error error_from(NSError* _Nullable error, std::string_view context);
// An Objective-C exception from a framework call (bad argument, call off the VM's queue).
Error error_from(NSException* exception, std::string_view context);
// Success for nil, the mapped error otherwise: the shape of every VZ completion handler.
Result<void> result_from(NSError* _Nullable error, std::string_view context);

}  // namespace vmm::vz::objc

NS_ASSUME_NONNULL_END
