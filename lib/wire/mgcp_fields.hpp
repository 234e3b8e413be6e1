// The MGCP binding's field table (kd-protocol(7), "MGCP binding"): one vendor extension parameter
// line per value (RFC 3435 3.2.2), in the order they are written. RFC 3435's grammar allows "X-"
// and at most six letters or digits, and Wireshark reads exactly that, so the names are short.
#pragma once

#include "wire/fields.hpp"

namespace kd::wire::mgcp {

using F = msg::Field;
inline constexpr FieldEntry kFields[] = {
    {kFlow, "X-KDFLOW", Form::flow},
    {F::suite, "X-KDSUIT", Form::token},
    {F::IDc, "X-KDIDC", Form::token},
    {F::IDsp, "X-KDIDSP", Form::token},
    {F::IDss, "X-KDIDSS", Form::token},
    {F::N1, "X-KDN1", Form::hex},
    {F::N2, "X-KDN2", Form::hex},
    {F::TS1, "X-KDTS", Form::decimal},
    {F::TS2, "X-KDTS", Form::decimal},
    {F::TS3, "X-KDTS", Form::decimal},
    {F::TS4, "X-KDTS", Form::decimal},
    {F::Rand, "X-KDRAND", Form::hex},
    {F::Authenticator_c, "X-KDAUTH", Form::hex},
    {F::EKc, "X-KDEKC", Form::hex},
    {F::EKsp, "X-KDEKSP", Form::hex},
    {F::EKss, "X-KDEKSS", Form::hex},
    {F::SecMechReq, "X-KDMREQ", Form::true_flag},
    {F::SecMechList, "X-KDMLST", Form::mech_list},
    {F::SecMech, "X-KDMECH", Form::token},
    {F::IPc, "X-KDIPC", Form::token},
    {F::MAC, "X-KDMAC", Form::hex},
};

inline constexpr auto kParams = index_elements<18>(kFields, Place::param);

}  // namespace kd::wire::mgcp
