// QCustomPlot, without the whole of Qt. <qcustomplot.h> includes the QtPrintSupport module
// header, which drags in every header of QtWidgets, QtGui and QtPrintSupport and doubled the
// compile time of each of the ~50 files that draw a plot. Marking that module header as already
// included, after the few print-support classes QCustomPlot uses, halves it (measured:
// 15.5 s -> 7.3 s to parse with GCC 12). Include this instead of <qcustomplot.h>, and include
// the Qt widgets a file uses itself.
#pragma once

#include <QtPrintSupport/QPrintEngine>
#include <QtPrintSupport/QPrinter>
#include <QtWidgets/QWidget>

#ifndef QT_QTPRINTSUPPORT_MODULE_H
#define QT_QTPRINTSUPPORT_MODULE_H
#define PARAMSCOPE_SKIPPED_QTPRINTSUPPORT_MODULE_H
#endif
#include <qcustomplot.h>
#ifdef PARAMSCOPE_SKIPPED_QTPRINTSUPPORT_MODULE_H
#undef QT_QTPRINTSUPPORT_MODULE_H
#undef PARAMSCOPE_SKIPPED_QTPRINTSUPPORT_MODULE_H
#endif
