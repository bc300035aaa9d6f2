#include "core/tensor/dtype.h"

namespace ps {

const char* dtype_name(DType t) {
    switch (t) {
        case DType::F32:
            return "F32";
        case DType::F16:
            return "F16";
        case DType::BF16:
            return "BF16";
        case DType::Q8_0:
            return "Q8_0";
        case DType::Q4_0:
            return "Q4_0";
        case DType::Q4_1:
            return "Q4_1";
        case DType::Q5_0:
            return "Q5_0";
        case DType::Q5_1:
            return "Q5_1";
        case DType::Q2_K:
            return "Q2_K";
        case DType::Q3_K:
            return "Q3_K";
        case DType::Q4_K:
            return "Q4_K";
        case DType::Q5_K:
            return "Q5_K";
        case DType::Q6_K:
            return "Q6_K";
        case DType::IQ4_NL:
            return "IQ4_NL";
        case DType::IQ4_XS:
            return "IQ4_XS";
    }
    return "?";
}

}  // namespace ps
