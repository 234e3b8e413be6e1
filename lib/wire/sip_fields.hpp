// The SIP binding's field table (kd-protocol(7), "SIP binding"): the KD authentication parameters
// in the order they are written, then the headers that carry the other fields.
#pragma once

#include "wire/fields.hpp"

namespace kd::wire::sip {

using F = msg::Field;
inline constexpr FieldEntry kFields[] = {
    {F::IDc, "username", Form::quoted},
    {F::IDsp, "realm", Form::quoted},  // the registrar: the proxy in the proxied flow,
    {F::IDss, "realm", Form::quoted},  // the switch in the direct one
    {F::suite, "algorithm", Form::token},
    {kFlow, "kd-flow", Form::flow},
    {F::Rand, "nonce", Form::quoted_hex},
    {F::Authenticator_c, "response", Form::quoted_hex},
    {F::N1, "kd-n1", Form::quoted_hex},
    {F::N2, "kd-n2", Form::quoted_hex},
    {F::TS1, "kd-ts", Form::decimal},
    {F::TS2, "kd-ts", Form::decimal},
    {F::TS3, "kd-ts", Form::decimal},
    {F::TS4, "kd-ts", Form::decimal},
    {F::EKc, "kd-ekc", Form::quoted_hex},
    {F::EKsp, "kd-eksp", Form::quoted_hex},
    {F::EKss, "kd-ekss", Form::quoted_hex},
    {F::SecMech, "kd-mech", Form::token},
    {F::MAC, "kd-mac", Form::quoted_hex},
    {F::IPc, "kd-ipc", Form::quoted, Place::param, 0, true},  // when the Contact cannot show IPc
    // The headers, in the order they are written; which one a step uses is its message's kind.
    {F::IPc, "Contact", Form::contact_host, Place::header},             // REGISTER
    {F::SecMechList, "Security-Client", Form::mech_list, Place::header},  // REGISTER
    {F::SecMechReq, "Require", Form::option_tag, Place::header},          // REGISTER, 401/407
    {F::SecMechList, "Security-Verify", Form::mech_list, Place::header},  // 200
};

// The authentication parameters of kFields, by name.
inline constexpr auto kParams = index_elements<15>(kFields, Place::param);

}  // namespace kd::wire::sip
