// EXPECT_ERROR(expr, "part", ...): the error tests' one assertion.
#pragma once

#include <QtTest>
#include <initializer_list>
#include <string>

#include "core/error.h"

// Runs `expr`, which must throw ps::Error whose message contains every one of the strings.
#define EXPECT_ERROR(expr, ...)                                                             \
    do {                                                                                    \
        std::string msg_;                                                                   \
        try {                                                                               \
            expr;                                                                           \
        } catch (const ps::Error& e) {                                                      \
            msg_ = e.what();                                                                \
        }                                                                                   \
        QVERIFY2(!msg_.empty(), "expected a ps::Error from " #expr);                        \
        for (const std::string& part : std::initializer_list<std::string>{__VA_ARGS__})     \
            QVERIFY2(msg_.find(part) != std::string::npos,                                  \
                     qPrintable(QString::fromStdString("'" + part + "' not in: " + msg_))); \
    } while (0)
