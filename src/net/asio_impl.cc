// Asio and Asio SSL compiled once for the whole program
// (BOOST_ASIO_SEPARATE_COMPILATION keeps every other file from compiling them).
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
