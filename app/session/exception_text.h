// The message of an exception caught with catch (...), for the status bar and error signals.
#pragma once

#include <QString>
#include <exception>

namespace ps {

inline QString what_of(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& ex) {
        return QString::fromUtf8(ex.what());
    } catch (...) {
        return QStringLiteral("unknown error");
    }
}

}  // namespace ps
