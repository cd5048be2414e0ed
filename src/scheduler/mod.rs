//! When things happen: embargo deadlines and the render loop.
