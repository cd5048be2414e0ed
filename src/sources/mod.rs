//! Where news comes from: upstream ministry feeds ([`upstream`]). Staff news
//! arrives through the admin API (`http::api::news`) and is validated by
//! [`staff`].

pub mod staff;
pub mod upstream;
