// The only place Boost.Asio is included. Boost 1.74 + GCC 12 + C++20 needs <utility> before
// <boost/asio.hpp> (awaitable.hpp uses std::exchange without including it).
#pragma once

#include <utility>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

namespace asio = boost::asio;
