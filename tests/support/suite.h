// Many Qt Test suites in one executable: each tests/*/test_*.cpp registers its test class under
// its file's name, and CTest runs every suite as its own test (`core_tests test_forward`). One
// executable per group instead of one per suite saves most of the link time of a clean build.
//
// PARAMSCOPE_TEST_MAIN / _GUILESS_MAIN / _APPLESS_MAIN replace QTEST_MAIN / QTEST_GUILESS_MAIN /
// QTEST_APPLESS_MAIN with the same application object: a QApplication (widget tests), a
// QCoreApplication, or none.
#pragma once

#include <QtTest>
// As QTEST_MAIN does: the richest application object the executable links.
#if defined(QT_WIDGETS_LIB)
#include <QApplication>
#define PARAMSCOPE_TEST_APPLICATION QApplication
#elif defined(QT_GUI_LIB)
#include <QGuiApplication>
#define PARAMSCOPE_TEST_APPLICATION QGuiApplication
#else
#define PARAMSCOPE_TEST_APPLICATION QCoreApplication
#endif

namespace ps::test {

using SuiteRunner = int (*)(int argc, char** argv);

// Registers `run` under the base name of `source_file` ("tests/core/test_forward.cpp" ->
// "test_forward"); returns true so that it can initialize a namespace-scope constant.
bool register_suite(const char* source_file, SuiteRunner run);

}  // namespace ps::test

#define PARAMSCOPE_TEST_SUITE_IMPL(TestObject, ...)                             \
    namespace {                                                                 \
    const bool paramscope_suite_registered =                                    \
        ::ps::test::register_suite(__FILE__, [](int argc, char** argv) -> int { \
            QT_PREPEND_NAMESPACE(QTest::Internal::callInitMain)<TestObject>();  \
            __VA_ARGS__                                                         \
            TestObject tc;                                                      \
            QTEST_SET_MAIN_SOURCE_PATH                                          \
            return QTest::qExec(&tc, argc, argv);                               \
        });                                                                     \
    }

#define PARAMSCOPE_TEST_MAIN(TestObject)                                                \
    PARAMSCOPE_TEST_SUITE_IMPL(TestObject, PARAMSCOPE_TEST_APPLICATION app(argc, argv); \
                               app.setAttribute(Qt::AA_Use96Dpi, true);)
#define PARAMSCOPE_TEST_GUILESS_MAIN(TestObject)                             \
    PARAMSCOPE_TEST_SUITE_IMPL(TestObject, QCoreApplication app(argc, argv); \
                               app.setAttribute(Qt::AA_Use96Dpi, true);)
#define PARAMSCOPE_TEST_APPLESS_MAIN(TestObject) PARAMSCOPE_TEST_SUITE_IMPL(TestObject)
