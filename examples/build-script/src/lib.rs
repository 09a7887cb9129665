//! Notes API. `generated` is written by build.rs from openapi.yaml;
//! `handlers` is the hand-written half.

include!(concat!(env!("OUT_DIR"), "/apigen.rs"));

pub mod handlers;
