// The SIP binding's field table (kd-protocol(7), "SIP binding"), in wire order: the Contact that
// shows IPc, the KD authentication parameters (of the one KD header of kKdHeaders the message
// carries), then the headers after the KD header. A header entry is written and read only in the
// kinds of message its `in` names; the encoder writes the entries listed before the parameters
// before the KD header, the others after it.
#pragma once

#include "wire/fields.hpp"

namespace kd::wire::sip {

// The headers whose KD authentication parameters hold the Place::param entries: the credentials
// and challenges under the scheme "KD", and the schemeless Authentication-Info that names kd-flow.
inline constexpr std::string_view kKdHeaders[] = {"Authorization", "Proxy-Authorization", "WWW-Authenticate",
                                                  "Proxy-Authenticate", "Authentication-Info"};

using F = msg::Field;
inline constexpr FieldEntry kFields[] = {
    {F::IPc, "Contact", Form::contact_host, Place::header, 0, false, sip_register},
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
    {F::SecMechList, "Security-Client", Form::mech_list, Place::header, 0, false, sip_register},
    {F::SecMechReq, "Require", Form::option_tag, Place::header, 0, false, sip_challenge},
    {F::SecMechList, "Security-Verify", Form::mech_list, Place::header, 0, false, sip_ok},
};

// The authentication parameters of kFields, by name.
inline constexpr auto kParams = index_elements<15>(kFields, Place::param);

}  // namespace kd::wire::sip
